#!/usr/bin/env bash
# Runs Phasor on this machine with no config: a mosquitto on loopback and the
# gateway, control and bridge services on a demo site, until Ctrl-C.
# Arguments go to `phasor demo` (e.g. --port 1884, --duration 30).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
phasor_ensure_apt
swift build 2>&1 | grep -E "error:|Build complete" || true
# The broker runs with the users and ACL deploy/ installs (deploy/mosquitto/phasor.acl).
exec "$(swift build --show-bin-path)/phasor" demo --acl-file "$root/deploy/mosquitto/phasor.acl" "$@"
