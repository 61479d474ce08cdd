#!/usr/bin/env bash
# Modbus poll benchmark (release build): one poll cycle over 20 simulated TCP
# devices (median, p99), and requests per second on one RTU bus (socat pty) at
# 9600 and 115200 baud next to the wire's frame-time limit.
#
#   scripts/bench-modbus.sh [tcp-cycles] [rtu-seconds-per-case]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
swift build -c release --product phasor-bench-modbus --package-path "$root" >/dev/null
"$root/.build/release/phasor-bench-modbus" "${1:-300}" "${2:-3}"
