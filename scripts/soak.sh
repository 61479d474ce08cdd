#!/usr/bin/env bash
# Chaos soak (a benchmark-like run, not a test): the example site under
# `phasor simulate`, a mosquitto and the three services (release), the bridge linked
# to a second local mosquitto as its cloud; services and the broker killed -9, the
# devices silenced, the meter lines pulled, the services' clock stepped (libfaketime)
# and the cloud broker restarted at random moments; prints the invariants (no crash,
# services back online, offline devices and meters reported, control's fail-safe,
# setpoints flowing, a sane budget, no overload of the main limit, no telemetry lost
# or duplicated at the cloud) and the services' RSS at start and end (scripts/soak.py).
#
#   scripts/soak.sh                       # 3 minutes
#   PHASOR_SOAK_SECONDS=3600 scripts/soak.sh   # an hour
#   PHASOR_SOAK_SEED=7 scripts/soak.sh    # the same fault sequence again
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
phasor_ensure_apt
# The cloud recorder is paho-mqtt: PHASOR_PYTHON if set, else the repository's .venv.
[ -n "${PHASOR_PYTHON:-}" ] || phasor_ensure_venv "$root"
for product in phasor phasor-gateway phasor-control phasor-bridge; do
  swift build -c release --product "$product" 2>&1 | grep -E "error:" || true
done
bin="$(swift build -c release --show-bin-path)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
seconds="${PHASOR_SOAK_SECONDS:-180}"
seed="${PHASOR_SOAK_SEED:-$RANDOM}"
exec "$PHASOR_PYTHON" "$root/scripts/soak.py" "$root" "$bin" "$port" "$seconds" "$seed"
