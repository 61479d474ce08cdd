#!/usr/bin/env bash
# Chaos soak (a benchmark-like run, not a test): the example site under
# `phasor simulate`, a mosquitto and the three services (release), with services
# and the broker killed -9 and the devices silenced at random moments; prints the
# invariants (no crash, services back online, silenced devices reported offline,
# no overload of the main limit) and the services' RSS at start and end.
#
#   scripts/soak.sh                       # 3 minutes
#   PHASOR_SOAK_SECONDS=3600 scripts/soak.sh   # an hour
#   PHASOR_SOAK_SEED=7 scripts/soak.sh    # the same fault sequence again
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
phasor_ensure_apt
for product in phasor phasor-gateway phasor-control phasor-bridge; do
  swift build -c release --product "$product" 2>&1 | grep -E "error:" || true
done
bin="$(swift build -c release --show-bin-path)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
seconds="${PHASOR_SOAK_SECONDS:-180}"
seed="${PHASOR_SOAK_SEED:-$RANDOM}"
exec python3 "$root/scripts/soak.py" "$root" "$bin" "$port" "$seconds" "$seed"
