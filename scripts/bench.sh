#!/usr/bin/env bash
# Benchmarks that print figures (not tests): MQTT publish throughput of Phasor's
# Swift client against a C libmosquitto client in the same run, and idle RSS of
# each service. Usage: scripts/bench.sh [COUNT]   (default 100000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
phasor_ensure_apt
count="${1:-100000}"

swift build -c release --product phasor-bench-mqtt 2>&1 | grep -E "error:|Compiling phasor|Build complete" || true
swift build -c release 2>&1 | grep -E "error:|Build complete" || true
bin="$(swift build -c release --show-bin-path)"
work=$(mktemp -d)
cc -O2 Benchmarks/MQTTThroughput/c_client.c -lmosquitto -o "$work/c_client"

phasor_start_broker
trap phasor_stop_broker EXIT
port=$PHASOR_TEST_MQTT_PORT
echo "broker 127.0.0.1:$port; $count messages of 20 bytes; 3 alternating rounds per QoS"
for qos in 0 1; do
  for round in 1 2 3; do
    "$work/c_client" "$port" "$count" "$qos"
    "$bin/phasor-bench-mqtt" "$port" "$count" "$qos"
  done
done | tee "$work/results.txt"
python3 - "$work/results.txt" <<'PY'
import re, sys, statistics
rates = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+)\s+qos=(\d).*rate=(\d+)", line)
    if m: rates.setdefault((m[1], m[2]), []).append(int(m[3]))
for qos in ("0", "1"):
    c, s = statistics.median(rates[("c", qos)]), statistics.median(rates[("swift", qos)])
    print(f"QoS {qos}: median C {c:.0f} msg/s, Swift {s:.0f} msg/s, ratio Swift/C {s/c:.2f}")
PY

echo "idle RSS of each service (release, connected, 3 s after start):"
for svc in gateway control bridge; do
  "$bin/phasor-$svc" --broker "mqtt://127.0.0.1:$port" --site bench --log-level error &
  pid=$!
  sleep 3
  echo "phasor-$svc: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
  kill -TERM $pid; wait $pid 2>/dev/null || true
done

echo "bridge outbox (docs/bridge.md): write rate per durability, replay rate"
"$bin/phasor-bench-outbox" "$count"
echo "fleet: simulated site bridges -> mosquitto -> consumers -> PostgreSQL"
"$bin/phasor-bench-fleet" --sites 100 --rate 20 --seconds 20 --consumers 3 --kill-consumer

# Bridge RSS with a big backlog: an outbox filled with PHASOR_BACKLOG_MB (default 1024) MB,
# the real bridge started on it, replaying to the bench broker; RSS after 10 s.
mb="${PHASOR_BACKLOG_MB:-1024}"
backlog=$(mktemp -d)
"$bin/phasor-bench-outbox" --fill "$backlog/outbox.sqlite" "$mb"
cat > "$backlog/site.yaml" <<YAML
site: bench
bridge:
  cloud: {url: "mqtt://127.0.0.1:$port", prefix: cloud, backlog_rate: 10000}
  outbox: {path: $backlog/outbox.sqlite}
YAML
"$bin/phasor-bridge" --config "$backlog/site.yaml" --broker "mqtt://127.0.0.1:$port" --log-level error &
pid=$!
sleep 10
echo "phasor-bridge replaying a $mb MB backlog: RSS $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
kill -TERM $pid; wait $pid 2>/dev/null || true
rm -rf "$backlog"
