import Foundation
import PhasorCore

@testable import Control

/// A car that takes its time, as real ones do: it lowers its draw `lowerDelay` after a
/// lower limit reached it, and rises `riseDelay` after a higher one, ramping at `rampAPerSecond`.
/// Below its minimum (6 A) it pauses.
struct SlowCar {
    var phases = 3
    var maxCurrent = 32.0
    var lowerDelay: TimeInterval = 1
    var riseDelay: TimeInterval = 0.5
    var rampAPerSecond = 5.0
    /// Below this limit the car pauses, A.
    var minCurrent = 6.0
    /// The car stopped drawing on its own (battery full) while plugged in.
    var full = false
}

/// A small site on a fine clock (`tick`), with the timing of a real one: the meter
/// samples every `meterPeriod` at its own instant, each charger reports every
/// `reportPeriod` at `reportOffset` after the meter, a setpoint reaches the charger
/// `writeLatency` after the decision, and cars follow with their own delays. Control
/// decides on every meter reading, and on a 1 s timer when no reading came (as the
/// service does). The breakers' truth is checked at every tick.
struct TimedSite {
    var model: SiteModel
    var state: ControlState
    var now: Date
    var tick: TimeInterval = 0.1
    var meterPeriod: TimeInterval = 1
    var reportPeriod: TimeInterval = 1
    var reportOffset: TimeInterval = 0.5
    var writeLatency: TimeInterval = 0.05
    /// Own load hanging directly at a node, per grid phase, A.
    var household: [String: PhaseCurrents] = [:]
    var cars: [String: SlowCar] = [:]
    /// Measurement noise on every house phase, ± A (seeded, so runs repeat).
    var noiseA = 0.0
    private var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var noise = PhaseCurrents.zero

    private(set) var measurements = Measurements()
    private(set) var decision: Decision?
    /// Terminal current each car draws now (same on each of its phases), A.
    private(set) var draw: [String: Double] = [:]
    /// The limit each charger applies now, and those on their way to it.
    private var limit: [String: Double] = [:]
    private var pending: [(at: Date, id: String, current: Double)] = []
    /// When the car's target last changed, and what it was before.
    private var targetSince: [String: Date] = [:]
    private var elapsed: TimeInterval = 0
    private var lastDecision: Date?
    private var lastMeterSample: Date?

    /// Setpoint changes per charge point, starts (0 → >0) and stops (>0 → 0).
    private(set) var changes: [String: Int] = [:]
    private(set) var starts: [String: Int] = [:]
    private(set) var stops: [String: Int] = [:]
    /// Worst excess over any node's limit seen at a tick, A, and seconds spent over one.
    private(set) var worstExcess = 0.0
    private(set) var secondsOver = 0.0
    /// Overloads that do not follow a rise of house load within `houseStepGrace`: caused
    /// by control's own decisions. Seconds, and the worst excess, A.
    private(set) var secondsOverByDecision = 0.0
    private(set) var worstExcessByDecision = 0.0
    /// After a house load rises, an overload is the house's for this long, s: the meter's
    /// period, the decision, the write and the slowest car's response.
    var houseStepGrace: TimeInterval = 6.5
    private var lastHouseRise: Date = .distantPast
    private var lastHousehold: [String: PhaseCurrents] = [:]
    private var lastSetpoint: [String: Double] = [:]

    init(_ model: SiteModel, start: Date = t0) {
        self.model = model
        self.state = ControlState(model: model)
        self.now = start
    }

    /// Current at every node, per grid phase, right now.
    func nodeCurrents() -> [PhaseCurrents] {
        var totals = [PhaseCurrents](repeating: .zero, count: model.nodes.count)
        for n in model.nodes.indices {
            let own = (household[model.nodes[n].id] ?? .zero) + (n == 0 ? noise : .zero)
            var chain: Int? = n
            while let i = chain {
                totals[i] += own
                chain = model.nodes[i].parent
            }
        }
        for cp in model.chargePoints {
            let grid = cp.rotation.toGrid(terminals(cp.id))
            for n in cp.ancestors { totals[n] += grid }
        }
        return totals
    }

    private func terminals(_ id: String) -> PhaseCurrents {
        guard let car = cars[id], let d = draw[id], d > 0 else { return .zero }
        var t = PhaseCurrents.zero
        for p in 0..<car.phases { t[p] = d }
        return t
    }

    private static func on(_ elapsed: TimeInterval, period: TimeInterval, offset: TimeInterval, tick: TimeInterval) -> Bool {
        let phase = (elapsed - offset).truncatingRemainder(dividingBy: period)
        return elapsed >= offset - 1e-9 && (phase < 1e-6 || period - phase < 1e-6)
    }

    /// Runs the site for `seconds`.
    mutating func run(_ seconds: TimeInterval) {
        let ticks = Int((seconds / tick).rounded())
        for _ in 0..<ticks { advance() }
    }

    private mutating func advance() {
        elapsed += tick
        now = now.addingTimeInterval(tick)
        if noiseA > 0 {
            for p in 0..<3 {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                noise[p] = (Double(seed >> 11) / Double(1 << 53) * 2 - 1) * noiseA
            }
        }
        // Setpoints reaching chargers.
        while let first = pending.first, first.at <= now {
            pending.removeFirst()
            if limit[first.id] != first.current { targetSince[first.id] = now }
            limit[first.id] = first.current
        }
        // Cars following their limits.
        for (id, car) in cars {
            let l = limit[id] ?? 0
            let target = car.full || l < car.minCurrent - 1e-9 ? 0 : min(l, car.maxCurrent)
            let d = draw[id] ?? 0
            let since = now.timeIntervalSince(targetSince[id] ?? .distantPast)
            if target < d - 1e-9 {
                if since >= car.lowerDelay { draw[id] = target }
            } else if target > d + 1e-9 {
                if since >= car.riseDelay {
                    // A paused car starts at its minimum, then ramps.
                    draw[id] = min(target, max(d, car.minCurrent) + (d == 0 ? 0 : car.rampAPerSecond * tick))
                }
            }
        }
        for id in draw.keys where cars[id] == nil { draw[id] = 0 }
        // The breakers' truth.
        let currents = nodeCurrents()
        var over = 0.0
        var carsCanHelp = false
        for (n, node) in model.nodes.enumerated() {
            var cars = PhaseCurrents.zero
            for i in node.chargePoints {
                let cp = model.chargePoints[i]
                cars += cp.rotation.toGrid(terminals(cp.id))
            }
            for p in 0..<3 where currents[n][p] - node.limit[p] > 1e-6 {
                over = max(over, currents[n][p] - node.limit[p])
                // The house alone above the limit: no decision can help, not control's overload.
                if currents[n][p] - cars[p] <= node.limit[p] { carsCanHelp = true }
            }
        }
        for (id, load) in household {
            let before = lastHousehold[id] ?? .zero
            if (0..<3).contains(where: { load[$0] > before[$0] + 1e-9 }) { lastHouseRise = now }
        }
        lastHousehold = household
        if over > 1e-6 {
            secondsOver += tick
            worstExcess = max(worstExcess, over)
            if carsCanHelp && now.timeIntervalSince(lastHouseRise) > houseStepGrace {
                secondsOverByDecision += tick
                worstExcessByDecision = max(worstExcessByDecision, over)
            }
        }
        // Meters, chargers, decisions.
        var meterRead = false
        if Self.on(elapsed, period: meterPeriod, offset: 0, tick: tick) {
            for (n, node) in model.nodes.enumerated() {
                guard case .device(let device) = node.meter else { continue }
                measurements.meters[device] = MeterSample(
                    time: now, currents: currents[n], power: (currents[n] * model.voltage).sum())
            }
            meterRead = true
            lastMeterSample = now
        }
        if Self.on(elapsed, period: reportPeriod, offset: reportOffset, tick: tick) {
            for cp in model.chargePoints {
                measurements.chargers[cp.device] = ChargerSample(
                    time: now, connected: cars[cp.id] != nil, currents: terminals(cp.id))
            }
        }
        let timerDue = lastDecision.map { now.timeIntervalSince($0) >= 1 - 1e-6 } ?? true
        if meterRead || timerDue { decide() }
    }

    private mutating func decide() {
        let (next, decision) = ControlCycle.run(state: state, model: model, measurements: measurements, now: now)
        state = next
        self.decision = decision
        lastDecision = now
        for sp in decision.setpoints {
            let old = lastSetpoint[sp.chargePoint] ?? 0
            if abs(sp.current - old) > 1e-9 {
                changes[sp.chargePoint, default: 0] += 1
                if old == 0 { starts[sp.chargePoint, default: 0] += 1 }
                if sp.current == 0 { stops[sp.chargePoint, default: 0] += 1 }
                pending.append((now.addingTimeInterval(writeLatency), sp.chargePoint, sp.current))
            }
            lastSetpoint[sp.chargePoint] = sp.current
        }
    }

    /// Forgets the counters (to count only from a point on, e.g. once settled).
    mutating func resetCounters() {
        changes = [:]
        starts = [:]
        stops = [:]
        worstExcess = 0
        secondsOver = 0
        secondsOverByDecision = 0
        worstExcessByDecision = 0
    }

    var totalChanges: Int { changes.values.reduce(0, +) }
}
