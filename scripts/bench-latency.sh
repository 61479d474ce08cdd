#!/usr/bin/env bash
# Benchmark that prints figures (not a test): latency from the last byte of a P1
# telegram written into a pty to its JSON state at an MQTT subscriber, through the
# gateway's whole path and a local mosquitto this script starts and stops.
# Usage: scripts/bench-latency.sh [COUNT] [GAP_MS]   (defaults 1000, 20)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
phasor_ensure_apt
count="${1:-1000}"
gap="${2:-20}"

swift build -c release --product phasor-bench-latency 2>&1 | grep -E "error:|Build complete" || true
bin="$(swift build -c release --show-bin-path)"
phasor_start_broker
trap phasor_stop_broker EXIT
echo "broker 127.0.0.1:$PHASOR_TEST_MQTT_PORT; DSMR 5 telegram (Tests/GatewayTests/Fixtures); release build"
"$bin/phasor-bench-latency" "$PHASOR_TEST_MQTT_PORT" Tests/GatewayTests/Fixtures/dsmr50-iskra-am550-real-basjes.txt "$count" "$gap"
