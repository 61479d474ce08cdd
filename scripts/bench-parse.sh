#!/usr/bin/env bash
# Parse-rate benchmark: our P1/TIC parsers (release build) and dsmr_parser on the
# same Belgian DSMR 5 telegram, in the same run, with the ratio. Rates are per CPU
# second of the measuring thread (the wall-clock rate is printed too).
#
#   scripts/bench-parse.sh [seconds-per-case]
#
# dsmr_parser comes from $PHASOR_PYTHON (a venv with dsmr-parser 1.11.2), else .venv/bin/python.
set -euo pipefail

seconds="${1:-3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PHASOR_PYTHON:-$root/.venv/bin/python}"
telegram="$root/Tests/P1Tests/Fixtures/dsmr5-belgium-fluvius-v171-dsmrparser.txt"

swift build -c release --product phasor-bench-parse --package-path "$root" >/dev/null
ours_output="$("$root/.build/release/phasor-bench-parse" "$seconds" "$root/Tests")"
echo "$ours_output"
ours="$(echo "$ours_output" | sed -n 's/^P1_TELEGRAMS_PER_SECOND=//p')"

if ! "$python" -c "import dsmr_parser" 2>/dev/null; then
    echo "dsmr_parser not importable with $python: no ratio (set PHASOR_PYTHON)"
    exit 0
fi
theirs="$("$python" - "$telegram" "$seconds" <<'PY'
import sys, time
from dsmr_parser import telegram_specifications
from dsmr_parser.parsers import TelegramParser
raw = open(sys.argv[1], "rb").read().decode("latin-1")
# CPU time of this thread, as the Swift side counts: wall time on a shared machine
# mostly measures the other builds.
parser = TelegramParser(telegram_specifications.BELGIUM_FLUVIUS)
assert str(parser.parse(raw).BELGIUM_MAXIMUM_DEMAND_MONTH.value) == "2.589"
count, start, cpu = 0, time.perf_counter(), time.thread_time()
while time.perf_counter() - start < float(sys.argv[2]):
    parser.parse(raw)
    count += 1
print(int(count / (time.thread_time() - cpu)))
PY
)"
echo "dsmr_parser_belgian_dsmr5: $theirs per CPU second"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "RATIO phasor/dsmr_parser = %.0fx (%d vs %d telegrams/s)\n", a / b, a, b }'
