// Times one control cycle for 20 charge points in a 4-level tree, then for
// 1000 charge points (a charging hub) in the same shape, scaled up; then the growth
// over 20 / 100 / 300 / 1000 / 5000 points, each across a quarter-hour boundary (the
// budget's reset), with the boundary cycle printed beside the others.
//
//   swift run -c release phasor-bench-control [cycles] [--sizes-only] [--points N]
//
// `cycles` is for the 20-point site (default 20 000); the 1000-point site runs a
// twentieth of it (at least 200). Prints figures; it is not a test and asserts nothing.
import Control
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The tree's shape: main ─┬─ building (real meter) ─┬─ panel 1 (real meter): n points
///                         │                          └─ panel 2 (virtual): n points
///                         └─ … more buildings
struct Layout {
    var buildings: Int
    var pointsPerPanel: Int
    var mainA, buildingA, panelA: Double
    var sliderKW: Double
    var preset: Preset

    /// 2 buildings × 2 panels × 5 points: the residential/small-business maximum.
    static let twenty = Layout(buildings: 2, pointsPerPanel: 5, mainA: 63, buildingA: 50, panelA: 32, sliderKW: 40, preset: .residential)
    /// 10 buildings × 2 panels × 50 points: a large charging hub.
    static let thousand = Layout(
        buildings: 10, pointsPerPanel: 50, mainA: 2500, buildingA: 400, panelA: 250, sliderKW: 1000, preset: .hub)

    /// `points` charge points in the hub's shape: buildings of 100 points (2 panels), at least two.
    static func hub(points: Int) -> Layout {
        if points <= 20 { return .twenty }
        let buildings = max(2, points / 100)
        return Layout(
            buildings: buildings, pointsPerPanel: points / (2 * buildings), mainA: 2.5 * Double(points),
            buildingA: 4 * Double(points / buildings), panelA: 2.5 * Double(points / buildings),
            sliderKW: Double(points), preset: .hub)
    }

    var points: Int { buildings * 2 * pointsPerPanel }
}

func site(_ layout: Layout) throws -> SiteModel {
    let rotations = PhaseRotation.allCases
    var counter = 0
    func points() -> [ChargePointConfig] {
        (0..<layout.pointsPerPanel).map { _ in
            counter += 1
            return ChargePointConfig(
                id: "cp\(counter)", rotation: rotations[counter % 3], phases: counter % 4 == 0 ? 1 : 3,
                phaseSwitching: counter % 4 != 0 && counter % 5 == 0, maxCurrent: 32, mode: counter % 7 == 0 ? .solar : .automatic,
                priority: counter % 3)
        }
    }
    func building(_ name: String) -> PanelConfig {
        PanelConfig(
            id: name, currentLimit: PhaseLimit(layout.buildingA), meter: .device("meter_\(name)"),
            panels: [
                PanelConfig(id: "\(name)a", currentLimit: PhaseLimit(layout.panelA), meter: .device("meter_\(name)a"), chargePoints: points()),
                PanelConfig(id: "\(name)b", currentLimit: PhaseLimit(layout.panelA), meter: .virtual, chargePoints: points()),
            ])
    }
    return try SiteModel(
        config: SiteConfig(
            preset: layout.preset, budget: BudgetConfig(sliderKW: layout.sliderKW),
            site: PanelConfig(
                id: "main", currentLimit: PhaseLimit(layout.mainA), meter: .device("grid"),
                panels: (1...layout.buildings).map { building("B\($0)") })))
}

/// The control state and a crude site: cars draw what they were given.
struct Bench {
    let model: SiteModel
    var state: ControlState
    /// A quarter-hour boundary (1 773 133 200 is a multiple of 900 s).
    var now = Date(timeIntervalSince1970: 1_773_133_200)
    var draws = [String: PhaseCurrents]()

    init(model: SiteModel) {
        self.model = model
        state = ControlState(model: model)
    }

    /// Meters see a house load plus what the cars drew after the last decision.
    func measurements() -> Measurements {
        var m = Measurements()
        var panel = [PhaseCurrents](repeating: .zero, count: model.nodes.count)
        panel[0] += PhaseCurrents(8, 5, 6) + PhaseCurrents(repeating: sin(now.timeIntervalSince1970 / 60) * 2)
        for cp in model.chargePoints {
            let grid = cp.rotation.toGrid(draws[cp.id] ?? .zero)
            for n in cp.ancestors { panel[n] += grid }
        }
        for (n, node) in model.nodes.enumerated() {
            if case .device(let device) = node.meter {
                let elapsed = now.timeIntervalSince1970.truncatingRemainder(dividingBy: 900)
                m.meters[device] = MeterSample(
                    time: now, currents: panel[n], power: (panel[n] * model.voltage).sum(),
                    quarterHourAverage: n == 0 ? 9000 * elapsed / 900 : nil)
            }
        }
        for cp in model.chargePoints {
            m.chargers[cp.device] = ChargerSample(time: now, connected: true, currents: draws[cp.id] ?? .zero)
        }
        return m
    }

    /// One second later: measure, decide (timed on the wall clock and in thread CPU
    /// time, which a busy shared machine does not inflate), let the cars follow.
    mutating func step() -> (wall: Duration, cpu: Duration) {
        now += 1
        let input = measurements()
        let clock = ContinuousClock()
        let cpuStart = threadCPUTime()
        let start = clock.now
        let (next, decision) = ControlCycle.run(state: state, model: model, measurements: input, now: now)
        let elapsed = (clock.now - start, threadCPUTime() - cpuStart)
        state = next
        for sp in decision.setpoints {
            var terminals = PhaseCurrents.zero
            for t in 0..<sp.phases { terminals[t] = sp.current }
            draws[sp.chargePoint] = terminals
        }
        return elapsed
    }
}

func threadCPUTime() -> Duration {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return .seconds(ts.tv_sec) + .nanoseconds(ts.tv_nsec)
}

func micro(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}
func summary(_ name: String, _ times: [Duration]) -> String {
    let sorted = times.sorted()
    let mean = sorted.map(micro).reduce(0, +) / Double(sorted.count)
    func at(_ q: Double) -> Double { micro(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) }
    return String(
        format: "%@ per cycle: mean %.1f µs  p50 %.1f µs  p90 %.1f µs  p99 %.1f µs  max %.1f µs", name, mean, at(0.5),
        at(0.9), at(0.99), micro(sorted[sorted.count - 1]))
}

/// Warms up (every car starts), then times `cycles` decisions and prints them.
func measure(_ layout: Layout, cycles: Int, warmUp: Int) throws {
    var bench = Bench(model: try site(layout))
    for _ in 0..<warmUp { _ = bench.step() }
    var wall: [Duration] = []
    var cpu: [Duration] = []
    for _ in 0..<cycles {
        let t = bench.step()
        wall.append(t.wall)
        cpu.append(t.cpu)
    }
    let charging = bench.state.sessions.values.filter { $0.setpoint > 0 }.count
    print("phasor-bench-control: \(bench.model.chargePoints.count) charge points, \(bench.model.nodes.count) panels over 4 levels, \(charging) charging, \(cycles) cycles")
    print(summary("wall", wall))
    print(summary("cpu ", cpu))
}

/// Cycles across a quarter-hour boundary: `warmUp` cycles, then `before` timed cycles
/// up to the boundary and `after` from it on. Returns the boundary cycle's CPU time and
/// the others' median and maximum.
func boundary(_ layout: Layout, warmUp: Int, before: Int, after: Int) throws -> (boundary: Duration, p50: Duration, max: Duration) {
    var bench = Bench(model: try site(layout))
    bench.now -= Double(warmUp + before)
    for _ in 0..<warmUp { _ = bench.step() }
    var others: [Duration] = []
    var atBoundary = Duration.zero
    for _ in 0..<(before + after) {
        let t = bench.step()
        if Int(bench.now.timeIntervalSince1970) % 900 == 0 { atBoundary = t.cpu } else { others.append(t.cpu) }
    }
    others.sort()
    return (atBoundary, others[others.count / 2], others[others.count - 1])
}

func growth(sizes: [Int]) throws {
    print("phasor-bench-control: cycle CPU time by site size, across a quarter-hour boundary (warm-up 300 cycles, 60 timed)")
    print("points  p50 ms   growth  max ms (other cycles)  boundary ms")
    var previous: (points: Int, p50: Double)?
    for points in sizes {
        let r = try boundary(.hub(points: points), warmUp: 300, before: 30, after: 30)
        let p50 = micro(r.p50) / 1000
        let grow = previous.map { String(format: "%.1f× for %.0f×", p50 / $0.p50, Double(points) / Double($0.points)) } ?? "-"
        let padded = grow.padding(toLength: 15, withPad: " ", startingAt: 0)
        print(
            String(format: "%6d  %7.3f  ", points, p50) + padded
                + String(format: "%8.3f  %8.3f", micro(r.max) / 1000, micro(r.boundary) / 1000))
        previous = (points, p50)
    }
}

let arguments = CommandLine.arguments.dropFirst()
let cycles = arguments.first.flatMap(Int.init) ?? 20_000
if !arguments.contains("--sizes-only") {
    try measure(.twenty, cycles: cycles, warmUp: 1_000)
    try measure(.thousand, cycles: max(200, cycles / 20), warmUp: 300)
}
// `--points N` runs only that size (for profiling).
let only = arguments.firstIndex(of: "--points").flatMap { i in arguments.dropFirst(i - arguments.startIndex + 1).first.flatMap(Int.init) }
try growth(sizes: only.map { [$0] } ?? [20, 100, 300, 1000, 5000])
