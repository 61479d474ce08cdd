#!/usr/bin/env bash
# Runs every Phasor test against real peers: installs what it needs (apt, pip),
# starts its own mosquitto on a free loopback port, builds with zero warnings,
# runs the tests, and stops the broker by PID.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh

phasor_ensure_apt
phasor_ensure_venv "$root"
[ "${PHASOR_HA_CHECK:-0}" = 1 ] && phasor_ensure_ha_venv "$root"
phasor_start_broker
trap phasor_stop_broker EXIT
echo "test broker: 127.0.0.1:$PHASOR_TEST_MQTT_PORT (pid $PHASOR_TEST_MQTT_PID)"

# Build everything (services too: tests start them as processes). Our own code must
# compile without a single warning; dependencies' warnings are theirs.
build_log=$(mktemp)
swift build --build-tests 2>&1 | tee "$build_log" | grep -E "error:|Build complete" || true
if grep -q "error:" "$build_log"; then echo "build failed"; exit 1; fi
if grep -E "^$root/(Sources|Tests|Benchmarks|Fuzz)/.*warning:" "$build_log"; then
  echo "build has warnings in Phasor's own code (above): fix them"; exit 1
fi

# Short fuzz runs of the parsers, when the fuzz targets exist.
if [ -x scripts/fuzz.sh ]; then
  # A fixed seed: the short run is a regression check that passes or fails the same way
  # on every clone; exploring new inputs is the long run's job (scripts/fuzz.sh 3600).
  PHASOR_FUZZ_SEED="${PHASOR_FUZZ_SEED:-1}" scripts/fuzz.sh "${PHASOR_FUZZ_SECONDS:-10}"
fi

# The Debian package: built, linted and (in CI, or with PHASOR_DEB_INSTALL=1)
# installed on this machine, run from its installed paths, and purged.
[ "${CI:-}" = true ] && export PHASOR_DEB_INSTALL="${PHASOR_DEB_INSTALL:-1}"
scripts/test-deb.sh

# Last, so its summary closes the output.
swift test --skip-build
