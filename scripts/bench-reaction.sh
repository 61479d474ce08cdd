#!/usr/bin/env bash
# Benchmark that prints figures (not a test): reaction latency of a whole site, from
# the last byte of a P1 telegram written into a pty to the new current limit written
# to a simulated charger (Modbus TCP), through the real phasor-gateway and
# phasor-control executables and a local mosquitto (set_tcp_nodelay) this script
# starts and stops.
# Usage: scripts/bench-reaction.sh [COUNT] [GAP_MS]   (defaults 500, 50)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
phasor_ensure_apt
count="${1:-500}"
gap="${2:-50}"

for product in phasor-gateway phasor-control phasor-bench-reaction; do
  swift build -c release --product "$product" 2>&1 | grep -E "error:|complete" || true
done
bin="$(swift build -c release --show-bin-path)"
phasor_start_broker
trap phasor_stop_broker EXIT
echo "broker 127.0.0.1:$PHASOR_TEST_MQTT_PORT (set_tcp_nodelay); e-MUCS telegram (Tests/GatewayTests/Fixtures); release build"
"$bin/phasor-bench-reaction" "$PHASOR_TEST_MQTT_PORT" Tests/GatewayTests/Fixtures/dsmr5-belgium-fluvius-v171-dsmrparser.txt "$count" "$gap"
