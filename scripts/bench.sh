#!/usr/bin/env bash
# Benchmarks that print figures (not tests): MQTT publish and receive throughput of
# Phasor's Swift client against a C libmosquitto client in the same run (medians of
# interleaved rounds, with the spread, and the CPU each client process spent per
# message), and the idle RSS and PSS of the services.
# Usage: scripts/bench.sh [COUNT]   (default 100000; PHASOR_BENCH_ROUNDS=7)
#   PHASOR_BENCH_PARTS="mqtt memory" runs only those parts (default: all of
#   mqtt memory outbox fleet backlog).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
phasor_ensure_apt
count="${1:-100000}"
parts=" ${PHASOR_BENCH_PARTS:-mqtt memory outbox fleet backlog} "
part() { [[ "$parts" == *" $1 "* ]]; }

swift build -c release --product phasor-bench-mqtt 2>&1 | grep -E "error:|Compiling phasor|Build complete" || true
swift build -c release 2>&1 | grep -E "error:|Build complete" || true
bin="$(swift build -c release --show-bin-path)"
work=$(mktemp -d)
cc -O2 Benchmarks/MQTTThroughput/c_client.c -lmosquitto -o "$work/c_client"

# Queued QoS 0 messages for an offline persistent session: the receive benchmark
# queues its messages before the subscriber comes back, at either QoS.
export PHASOR_BROKER_EXTRA_CONF="queue_qos0_messages true"
phasor_start_broker
trap phasor_stop_broker EXIT
port=$PHASOR_TEST_MQTT_PORT
rounds="${PHASOR_BENCH_ROUNDS:-7}"
if part mqtt; then
echo "broker 127.0.0.1:$port; $count messages of 20 bytes; $rounds rounds per QoS, C and Swift interleaved (order alternating)"
for mode in publish receive; do
  arg=""; [ "$mode" = receive ] && arg=receive
  for qos in 0 1; do
    for round in $(seq 1 "$rounds"); do
      if [ $((round % 2)) -eq 1 ]; then
        "$work/c_client" $arg "$port" "$count" "$qos"
        "$bin/phasor-bench-mqtt" $arg "$port" "$count" "$qos"
      else
        "$bin/phasor-bench-mqtt" $arg "$port" "$count" "$qos"
        "$work/c_client" $arg "$port" "$count" "$qos"
      fi
    done
  done
done | tee "$work/results.txt"
python3 - "$work/results.txt" <<'PY'
import re, sys, statistics
rates, cpu = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+)\s+(receive )?qos=(\d).*rate=(\d+) msg/s cpu=([\d.]+)", line)
    if m:
        key = (m[1], "receive" if m[2] else "publish", m[3])
        rates.setdefault(key, []).append(int(m[4]))
        cpu.setdefault(key, []).append(float(m[5]))
for mode in ("publish", "receive"):
    for qos in ("0", "1"):
        c, s = rates[("c", mode, qos)], rates[("swift", mode, qos)]
        mc, ms = statistics.median(c), statistics.median(s)
        # Each round ran C and Swift back to back: the ratio within a round cancels
        # most of the load the other builds put on the machine at that moment.
        paired = statistics.median(b / a for a, b in zip(c, s))
        print(f"MQTT {mode} QoS {qos}: median C {mc:.0f} msg/s ({min(c)}-{max(c)}), Swift {ms:.0f} msg/s ({min(s)}-{max(s)}), "
              f"ratio Swift/C {ms/mc:.2f} (median of the rounds' ratios {paired:.2f}); "
              f"client CPU per message C {statistics.median(cpu[('c', mode, qos)]):.2f} us, "
              f"Swift {statistics.median(cpu[('swift', mode, qos)]):.2f} us")
PY
fi

# Memory: the three services idle and connected, started together so that their
# shared libraries (Swift runtime, Foundation, ICU) are shared as on a real box. RSS
# counts every shared page in each process; PSS divides them among the processes,
# so the PSS sum is what the three cost together (targets: RSS < 25 MB each, PSS
# sum < 35 MB).
# The example site (docs/examples/site.yaml): its meters are absent here, so the
# gateway reports them offline and retries; nothing else happens.
if part memory; then
echo "idle memory of the services (release, connected, example site, started together, 4 s after start):"
pids=()
for svc in gateway control bridge; do
  "$bin/phasor-$svc" --config docs/examples/site.yaml --broker "mqtt://127.0.0.1:$port" --log-level critical &
  pids+=($!)
done
sleep 4
pss_total=0
for i in 0 1 2; do
  pid=${pids[$i]}
  if [ ! -r "/proc/$pid/smaps_rollup" ]; then echo "a service (pid $pid) did not keep running"; continue; fi
  svc=$(basename "$(readlink /proc/$pid/exe)")
  rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
  pss=$(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup)
  anon=$(awk '/^Pss_Anon:/ {print $2}' /proc/$pid/smaps_rollup)
  pss_total=$((pss_total + pss))
  awk -v s="$svc" -v r="$rss" -v p="$pss" -v a="$anon" \
    'BEGIN { printf "%s: RSS %.1f MB, PSS %.1f MB (anonymous %.1f MB)\n", s, r/1024, p/1024, a/1024 }'
done
awk -v t="$pss_total" 'BEGIN { printf "PSS of the three together: %.1f MB\n", t/1024 }'
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
fi

if part outbox; then
echo "bridge outbox (docs/bridge.md): write rate per durability, replay rate"
"$bin/phasor-bench-outbox" "$count"
fi
if part fleet; then
echo "fleet: simulated site bridges -> mosquitto -> consumers -> PostgreSQL"
"$bin/phasor-bench-fleet" --sites 100 --rate 20 --seconds 20 --consumers 3 --kill-consumer
fi

# Bridge RSS with a big backlog: an outbox filled with PHASOR_BACKLOG_MB (default 1024) MB,
# the real bridge started on it, replaying to the bench broker; RSS after 10 s.
part backlog || exit 0
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
