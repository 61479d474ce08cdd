// Prints parse rates (telegrams or frames per second) for the P1 and TIC parsers.
// Run by scripts/bench-parse.sh in release mode; never timed in tests.
//
// Usage: phasor-bench-parse [seconds-per-case] [fixtures-root]
import Foundation
import P1
import PhasorCore
import TIC

let arguments = CommandLine.arguments
let secondsPerCase = arguments.count > 1 ? Double(arguments[1]) ?? 2 : 2
let defaultRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Tests").path
let root = arguments.count > 2 ? arguments[2] : defaultRoot

func load(_ relative: String) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: root + "/" + relative) else {
        FileHandle.standardError.write(Data("cannot read \(root)/\(relative)\n".utf8))
        exit(1)
    }
    return [UInt8](data)
}

/// Optional third argument: run only the cases whose name contains it (for profiling);
/// `=name` runs only the case of exactly that name.
let only = arguments.count > 3 ? arguments[3] : ""

/// CPU time of this thread, s: a machine shared with builds slows the wall clock
/// down far more than the work itself.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` in batches until `secondsPerCase` have passed; returns calls per CPU
/// second (the wall-clock rate is printed beside it).
func rate(_ name: String, _ body: () -> Int) -> Double {
    guard only.isEmpty || name.contains(only) || "=" + name == only else { return 0 }
    let clock = ContinuousClock()
    var calls = 0
    var checksum = 0
    let start = clock.now
    let cpuStart = threadCPUSeconds()
    var elapsed = Duration.zero
    // The fastest batch too: on a shared machine a batch that ran undisturbed
    // (no cache or core contention from other work) shows what the code itself costs.
    var bestBatch = Double.infinity
    while elapsed < .seconds(secondsPerCase) {
        let batchStart = threadCPUSeconds()
        for _ in 0..<1000 { checksum &+= body() }
        bestBatch = min(bestBatch, threadCPUSeconds() - batchStart)
        calls += 1000
        elapsed = start.duration(to: clock.now)
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let cpu = threadCPUSeconds() - cpuStart
    let perCPUSecond = Double(calls) / cpu
    print(
        "\(name): \(Int(perCPUSecond)) per CPU second, \(Int(Double(calls) / seconds)) per wall second, "
            + "\(Int(1000 / bestBatch)) in the fastest batch of 1000 (\(calls) in "
            + "\(String(format: "%.2f", cpu)) s CPU, \(String(format: "%.2f", seconds)) s wall, check \(checksum % 997))")
    return perCPUSecond
}

let belgian = load("P1Tests/Fixtures/dsmr5-belgium-fluvius-v171-dsmrparser.txt")
let ticStandard = load("TICTests/Fixtures/tic-standard-mono-base-linky-ticdecodecpp.txt")
let now = Date()

// The parse must succeed, or the figures mean nothing.
guard (try? P1Parser.parse(belgian, receivedAt: now))?.reading.number("power_import_month_peak") == 2589,
    (try? TICParser.parse(ticStandard, receivedAt: now))?.reading.number("energy_import") == 11887.649
else {
    FileHandle.standardError.write(Data("fixtures did not parse as expected\n".utf8))
    exit(1)
}

let p1 = rate("p1_parse_belgian_dsmr5") {
    (try? P1Parser.parse(belgian, receivedAt: now))?.values.count ?? 0
}
_ = rate("p1_parse_belgian_dsmr5_with_reading") {
    (try? P1Parser.parse(belgian, receivedAt: now))?.reading.values.count ?? 0
}
_ = rate("p1_frame_and_parse_belgian_dsmr5") {
    var framer = P1Framer()
    return framer.append(belgian).reduce(0) { $0 + ((try? P1Parser.parse($1, receivedAt: now))?.values.count ?? 0) }
}
// What PhasorCore's Reading costs on its own for the same values: its `set` looks
// each quantity up linearly, so building one is quadratic in the number of values.
if let values = (try? P1Parser.parse(belgian, receivedAt: now))?.reading.values.map({ ($0.quantity, $0.value) }) {
    _ = rate("p1_reading_init_only_\(values.count)_values") {
        Reading(device: "p1", time: MeterTimestamp(date: now, utcOffsetSeconds: 0), values: values).values.count
    }
}
let tic = rate("tic_parse_standard_frame") {
    (try? TICParser.parse(ticStandard, receivedAt: now))?.values.count ?? 0
}
_ = rate("tic_parse_standard_frame_with_reading") {
    (try? TICParser.parse(ticStandard, receivedAt: now))?.reading.values.count ?? 0
}
print("P1_TELEGRAMS_PER_SECOND=\(Int(p1))")
print("TIC_FRAMES_PER_SECOND=\(Int(tic))")
