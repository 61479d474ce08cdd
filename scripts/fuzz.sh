#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer and prints, per target, the executions run and
# the crashes found. Targets: p1, tic, modbus (register responses through every shipped
# profile's read plan), commands (control's and the gateway's command payloads and the
# payloads read between services), site (the site file loader's YAML path).
#
#   scripts/fuzz.sh            # ~20 s per target (what the test command runs)
#   scripts/fuzz.sh 3600       # long run: one hour per target
#   PHASOR_FUZZ_TARGETS="modbus site" scripts/fuzz.sh 60   # some targets only
#   PHASOR_FUZZ_SEED=1 scripts/fuzz.sh 10   # a fixed seed (0, the default, is random)
#   PHASOR_FUZZ_RUNS=10000000 scripts/fuzz.sh 3600   # stop a target at 10 M executions
#   PHASOR_FUZZ_SECONDS_site=600 scripts/fuzz.sh 60   # one target's own time limit
#   PHASOR_FUZZ_SANITIZERS=fuzzer scripts/fuzz.sh 3600   # without ASan: several times
#       more executions (crashes and traps still count; memory errors go unseen)
#
# The targets are compiled straight from the sources (swiftc -sanitize=fuzzer,address):
# PhasorCore's vocabulary and time files as a library module, then the P1 (or TIC)
# sources with the fuzz entry point. SmartyFrame.swift needs swift-crypto and is
# left out; its input handling is covered by the P1 tests. The modbus, commands and
# site targets need Yams and the whole of PhasorCore: Yams (and its C part) and the
# libraries they use are compiled the same way, with coverage (-sanitize=fuzzer), from
# .build/checkouts (`swift package resolve` fetches them).
# Seeds: the fixtures. Crash inputs go to fuzz-artifacts/<target>/ (git-ignored).
set -euo pipefail

duration="${1:-20}"
targets=" ${PHASOR_FUZZ_TARGETS:-p1 tic modbus commands site} "
wants() { [[ "$targets" == *" $1 "* ]]; }
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
quietly swiftc -parse-as-library -O "${core_asan[@]}" -package-name Phasor -module-name PhasorCore -emit-module \
    -emit-module-path "$out/PhasorCore.swiftmodule" -emit-library -static -o "$out/libPhasorCore.a" "${core_sources[@]}"

build_target() {
    local name="$1"; shift
    echo "== building $name"
    quietly swiftc -parse-as-library -O -g -sanitize="$sanitizers" -package-name Phasor -module-name "$(echo "$name" | tr - _)" \
        -I "$out" -L "$out" -lPhasorCore -o "$out/$name" "$@"
}

p1_sources=()
for f in "$root"/Sources/P1/*.swift; do
    [[ "$(basename "$f")" == "SmartyFrame.swift" ]] || p1_sources+=("$f")
done
wants p1 && build_target fuzz-p1 "${p1_sources[@]}" "$root/Fuzz/P1Fuzz.swift"
wants tic && build_target fuzz-tic "$root"/Sources/TIC/*.swift "$root/Fuzz/TICFuzz.swift"

# The second group: Yams, the whole of PhasorCore, Control, and the parts of Modbus,
# PhasorService, ControlService and Gateway that hold the decoders (no libmodbus, no MQTT).
if wants modbus || wants commands || wants site; then
    full="$out/full"
    mkdir -p "$full"
    yams="$root/.build/checkouts/Yams/Sources"
    [[ -d "$yams" ]] || quietly swift package --package-path "$root" resolve
    cflags=(-fsanitize=fuzzer-no-link); [[ "$sanitizers" == *address* ]] && cflags=(-fsanitize=fuzzer-no-link,address)
    echo "== building Yams, PhasorCore, Control and the decoders' modules"
    for f in "$yams"/CYaml/src/*.c; do
        quietly clang -O2 -g "${cflags[@]}" -DYAML_DECLARE_STATIC -I "$yams/CYaml/include" -c "$f" -o "$full/$(basename "$f" .c).o"
    done
    rm -f "$full/libCYaml.a"
    quietly ar rcs "$full/libCYaml.a" "$full"/*.o
    library() {
        local name="$1"; shift
        quietly swiftc -parse-as-library -O -sanitize="$sanitizers" -D SWIFT_PACKAGE -package-name Phasor -module-name "$name" -emit-module \
            -emit-module-path "$full/$name.swiftmodule" -emit-library -static -o "$full/lib$name.a" \
            -I "$full" -I "$yams/CYaml/include" -Xcc -DYAML_DECLARE_STATIC "$@"
    }
    library Yams "$yams"/Yams/*.swift
    library PhasorCore $(find "$root/Sources/PhasorCore" -name '*.swift' | sort)
    library Control $(find "$root/Sources/Control" -name '*.swift' | sort)
    m="$root/Sources/Modbus"
    modbus_decoding=("$m"/Codec/*.swift "$m"/ProfileModel/*.swift "$m/Polling/ReadPlan.swift" "$m/Polling/ReadingDecoder.swift"
        "$m"/Config/{GenericMeter,ModbusDeviceConfig,ModbusSection,RelayConfig}.swift "$m/Charger/ChargerStateDecoder.swift"
        "$m/Client/LinkSettings.swift" "$root/Fuzz/Support/ModbusBundle.swift")
    library Modbus "${modbus_decoding[@]}"
    library PhasorService "$root"/Sources/PhasorService/Commands/{CommandError,ChoiceCommand}.swift
    build_full() {
        local name="$1"; shift
        echo "== building $name"
        quietly swiftc -parse-as-library -O -g -sanitize="$sanitizers" -package-name Phasor -module-name "$(echo "$name" | tr - _)" \
            -I "$full" -I "$yams/CYaml/include" -L "$full" "$@" -lPhasorCore -lYams -lCYaml -o "$out/$name"
    }
    wants modbus && build_full fuzz-modbus "${modbus_decoding[@]}" "$root/Fuzz/ModbusFuzz.swift"
    wants commands && build_full fuzz-commands -lControl -lModbus -lPhasorService \
        "$root/Sources/ControlService/Commands/ControlCommand.swift" "$root/Sources/Gateway/Modbus/RelayCommand.swift" \
        "$root/Fuzz/CommandsFuzz.swift"
    wants site && build_full fuzz-site -lControl "${modbus_decoding[@]}" "$root/Fuzz/SiteFuzz.swift"
fi

total_crashes=0
run_target() {
    local name="$1" seeds="$2"
    local corpus="$out/corpus-$name" artifacts="$root/fuzz-artifacts/$name"
    mkdir -p "$corpus" "$artifacts/previous"
    # Inputs that crashed an earlier run are kept aside, not counted again.
    find "$artifacts" -maxdepth 1 -type f -exec mv {} "$artifacts/previous/" \;
    find "$seeds" -type f ! -name '*.md' -exec cp {} "$corpus/" \;
    local log="$out/$name.log" seconds_var="PHASOR_FUZZ_SECONDS_${name#fuzz-}"
    local seconds="${!seconds_var:-$duration}"
    set +e
    "$out/$name" "$corpus" -max_total_time="$seconds" -runs="${PHASOR_FUZZ_RUNS:--1}" -max_len=4096 -print_final_stats=1 \
        -seed="${PHASOR_FUZZ_SEED:-0}" -artifact_prefix="$artifacts/" -timeout=10 -rss_limit_mb=1024 >"$log" 2>&1
    local status=$?
    set -e
    local execs
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)"
    local crashes
    crashes="$(find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)"
    echo "$name: executions=$execs crashes=$crashes exit=$status duration=${seconds}s (log: $log)"
    if [[ $status -ne 0 || $crashes -ne 0 ]]; then
        tail -n 30 "$log"
        total_crashes=$((total_crashes + crashes + (status != 0 ? 1 : 0)))
    fi
}

wants p1 && run_target fuzz-p1 "$root/Tests/P1Tests/Fixtures"
wants tic && run_target fuzz-tic "$root/Tests/TICTests/Fixtures"
seeds="$out/seeds"
if wants modbus; then
    # First byte: the profile; second: the read plan's gap; then the words.
    mkdir -p "$seeds/modbus"
    for i in 0 1 2 3 4 5 6 7 8 9; do printf "\x$i$i\x04\x01\x00\x00\x0f\xff\xff\x80\x00\x12\x34" >"$seeds/modbus/p$i"; done
    PHASOR_FUZZ_PROFILES="$root/Sources/Modbus/Profiles" run_target fuzz-modbus "$seeds/modbus"
fi
if wants commands; then
    # First byte: the command topic; then the payload. The services' tests' payloads as seeds.
    mkdir -p "$seeds/commands"
    i=0
    for payload in '7.5' '{"value": 7.5}' 'solar' '"auto"' '{"value": "boost", "duration_s": 600}' 'on' '{"on": true, "sequence": 7}' \
        '{"current": 16, "sequence": 3}' '{"time": "2025-01-01T00:00:00Z", "values": {"power": 1200}}'; do
        printf "\x0$((i % 8))%s" "$payload" >"$seeds/commands/c$i"; i=$((i + 1))
    done
    run_target fuzz-commands "$seeds/commands"
fi
if wants site; then
    # First byte: 0 the site file, 1 control's section alone, 2 a device profile.
    mkdir -p "$seeds/site"
    for f in "$root"/docs/examples/*.yaml; do { printf '\x00'; cat "$f"; } >"$seeds/site/site-$(basename "$f")"; done
    while IFS= read -r f; do { printf '\x02'; cat "$f"; } >"$seeds/site/profile-$(basename "$f")"; done \
        < <(find "$root/Sources/Modbus/Profiles" -name '*.yaml')
    run_target fuzz-site "$seeds/site"
fi
echo "TOTAL crashes=$total_crashes"
exit $((total_crashes > 0 ? 1 : 0))
