#!/usr/bin/env bash
# Fuzzes the P1 and TIC parsers with libFuzzer and prints, per target, the
# executions run and the crashes found.
#
#   scripts/fuzz.sh            # ~20 s per target (what the test command runs)
#   scripts/fuzz.sh 3600       # long run: one hour per target
#   PHASOR_FUZZ_SEED=1 scripts/fuzz.sh 10   # a fixed seed (0, the default, is random)
#   PHASOR_FUZZ_SANITIZERS=fuzzer scripts/fuzz.sh 3600   # without ASan: several times
#       more executions (crashes and traps still count; memory errors go unseen)
#
# The targets are compiled straight from the sources (swiftc -sanitize=fuzzer,address):
# PhasorCore's vocabulary and time files as a library module, then the P1 (or TIC)
# sources with the fuzz entry point. SmartyFrame.swift needs swift-crypto and is
# left out; its input handling is covered by the P1 tests.
# Seeds: the fixtures. Crash inputs go to fuzz-artifacts/<target>/ (git-ignored).
set -euo pipefail

duration="${1:-20}"
root="$(cd "$(dirname "$0")/.." && pwd)"
sanitizers="${PHASOR_FUZZ_SANITIZERS:-fuzzer,address}"
out="$root/.build/fuzz"
[[ "$sanitizers" == *address* ]] || out="$root/.build/fuzz-noasan"
mkdir -p "$out"

core_sources=("$root"/Sources/PhasorCore/Vocabulary/*.swift "$root/Sources/PhasorCore/Time/ISO8601.swift")

# Build output goes to a log (gold prints a page of harmless ASan symbol warnings);
# it is shown only when a build fails.
quietly() {
    local log="$out/build.log"
    if ! "$@" >"$log" 2>&1; then
        cat "$log"
        exit 2
    fi
}

echo "== building PhasorCore subset"
core_asan=(); [[ "$sanitizers" == *address* ]] && core_asan=(-sanitize=address)
quietly swiftc -parse-as-library -O "${core_asan[@]}" -module-name PhasorCore -emit-module \
    -emit-module-path "$out/PhasorCore.swiftmodule" -emit-library -static -o "$out/libPhasorCore.a" "${core_sources[@]}"

build_target() {
    local name="$1"; shift
    echo "== building $name"
    quietly swiftc -parse-as-library -O -g -sanitize="$sanitizers" -module-name "$(echo "$name" | tr - _)" \
        -I "$out" -L "$out" -lPhasorCore -o "$out/$name" "$@"
}

p1_sources=()
for f in "$root"/Sources/P1/*.swift; do
    [[ "$(basename "$f")" == "SmartyFrame.swift" ]] || p1_sources+=("$f")
done
build_target fuzz-p1 "${p1_sources[@]}" "$root/Fuzz/P1Fuzz.swift"
build_target fuzz-tic "$root"/Sources/TIC/*.swift "$root/Fuzz/TICFuzz.swift"

total_crashes=0
run_target() {
    local name="$1" seeds="$2"
    local corpus="$out/corpus-$name" artifacts="$root/fuzz-artifacts/$name"
    mkdir -p "$corpus" "$artifacts/previous"
    # Inputs that crashed an earlier run are kept aside, not counted again.
    find "$artifacts" -maxdepth 1 -type f -exec mv {} "$artifacts/previous/" \;
    find "$seeds" -type f ! -name '*.md' -exec cp {} "$corpus/" \;
    local log="$out/$name.log"
    set +e
    "$out/$name" "$corpus" -max_total_time="$duration" -max_len=4096 -print_final_stats=1 \
        -seed="${PHASOR_FUZZ_SEED:-0}" -artifact_prefix="$artifacts/" -timeout=10 -rss_limit_mb=1024 >"$log" 2>&1
    local status=$?
    set -e
    local execs
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)"
    local crashes
    crashes="$(find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)"
    echo "$name: executions=$execs crashes=$crashes exit=$status duration=${duration}s (log: $log)"
    if [[ $status -ne 0 || $crashes -ne 0 ]]; then
        tail -n 30 "$log"
        total_crashes=$((total_crashes + crashes + (status != 0 ? 1 : 0)))
    fi
}

run_target fuzz-p1 "$root/Tests/P1Tests/Fixtures"
run_target fuzz-tic "$root/Tests/TICTests/Fixtures"
echo "TOTAL crashes=$total_crashes"
exit $((total_crashes > 0 ? 1 : 0))
