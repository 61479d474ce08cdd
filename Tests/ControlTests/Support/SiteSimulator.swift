import Foundation
import PhasorCore

@testable import Control

/// 2026-03-10 09:00:00 UTC, on a quarter-hour boundary.
let t0 = Date(timeIntervalSince1970: 1_773_133_200)

/// A car as the simulator plays it: draws what the setpoint allows, on its own phases.
struct SimCar {
    var phases = 3
    var maxCurrent = 32.0
}

/// A small physical site on virtual time: panels with their own loads, cars that
/// follow their setpoints, meters that measure the sum below them (the root one
/// with the 1-0:1.4.0 running average and its repeat quirk), and the true
/// quarter-hour averages to check the budget against.
struct SiteSimulator {
    var model: SiteModel
    var state: ControlState
    var now: Date
    /// Own load hanging directly at a panel (not in its sub-panels), per grid phase, A.
    var household: [String: PhaseCurrents] = [:]
    var cars: [String: SimCar] = [:]
    var offlineChargers: Set<String> = []
    /// Chargers report this often, s; the meter every step. A real gateway polls a
    /// charger every few seconds while a DSMR 5 meter sends every second.
    var chargerReportInterval: TimeInterval = 0
    private var lastChargerReport: Date?
    /// Meters send this often, s (0: every step). Control also decides on a timer, so a
    /// decision can see a meter reading older than the charger reports.
    var meterReportInterval: TimeInterval = 0
    private var lastMeterReport: Date?
    /// Meters that stopped sending: their last sample stays in the snapshot and ages.
    var silentMeters: Set<String> = []
    /// The root meter sends 1-0:1.4.0 (older e-MUCS firmware does not).
    var sendsQuarterAverage = true
    /// Seconds after a boundary during which the meter repeats the previous quarter's 1.4.0.
    var repeatSeconds = 10.0
    private(set) var measurements = Measurements()
    /// Terminal currents each charger draws now.
    private(set) var draws: [String: PhaseCurrents] = [:]
    private(set) var decision: Decision?
    /// True import energy of the running quarter, W·s, and the closed quarters' averages, W.
    private(set) var quarterEnergy = 0.0
    private(set) var closedQuarterAverages: [Double] = []
    private var previousQuarterAverage = 0.0

    init(_ model: SiteModel, start: Date = t0) {
        self.model = model
        self.state = ControlState(model: model)
        self.now = start
    }

    /// Current at every panel as its meter sees it, per grid phase.
    func panelCurrents() -> [PhaseCurrents] {
        var totals = [PhaseCurrents](repeating: .zero, count: model.nodes.count)
        for n in model.nodes.indices {
            let own = household[model.nodes[n].id] ?? .zero
            var chain: Int? = n
            while let i = chain {
                totals[i] += own
                chain = model.nodes[i].parent
            }
        }
        for cp in model.chargePoints {
            let grid = cp.rotation.toGrid(draws[cp.id] ?? .zero)
            for n in cp.ancestors { totals[n] += grid }
        }
        return totals
    }

    var importPower: Double { max(0, (panelCurrents()[0] * model.voltage).sum()) }

    /// Advances virtual time, lets the meters and chargers report, and runs one cycle.
    @discardableResult
    mutating func step(_ seconds: TimeInterval = 1) -> Decision {
        let quarter = QuarterHourBudget.quarter
        var from = now
        now = now.addingTimeInterval(seconds)
        // True energy: the power held over the interval, split at quarter boundaries.
        let power = importPower
        while true {
            let boundary = Date(timeIntervalSince1970: ((from.timeIntervalSince1970 / quarter).rounded(.down) + 1) * quarter)
            if now < boundary {
                quarterEnergy += power * now.timeIntervalSince(from)
                break
            }
            quarterEnergy += power * boundary.timeIntervalSince(from)
            previousQuarterAverage = quarterEnergy / quarter
            closedQuarterAverages.append(previousQuarterAverage)
            quarterEnergy = 0
            from = boundary
        }
        report()
        let (next, decision) = ControlCycle.run(state: state, model: model, measurements: measurements, now: now)
        state = next
        self.decision = decision
        apply(decision)
        return decision
    }

    /// Runs `count` one-second cycles and returns every decision.
    @discardableResult
    mutating func run(seconds count: Int) -> [Decision] {
        (0..<count).map { _ in step() }
    }

    private mutating func report() {
        let currents = panelCurrents()
        let metersDue = lastMeterReport.map { now.timeIntervalSince($0) >= meterReportInterval } ?? true
        if metersDue { lastMeterReport = now }
        for (n, node) in model.nodes.enumerated() where metersDue {
            guard case .device(let device) = node.meter, !silentMeters.contains(device) else { continue }
            var sample = MeterSample(time: now, currents: currents[n], power: (currents[n] * model.voltage).sum())
            if n == 0 && sendsQuarterAverage {
                let sinceBoundary = now.timeIntervalSince1970.truncatingRemainder(dividingBy: QuarterHourBudget.quarter)
                let repeating = sinceBoundary < repeatSeconds && !closedQuarterAverages.isEmpty
                sample.quarterHourAverage = repeating ? previousQuarterAverage : quarterEnergy / QuarterHourBudget.quarter
            }
            measurements.meters[device] = sample
        }
        if let last = lastChargerReport, now.timeIntervalSince(last) < chargerReportInterval { return }
        lastChargerReport = now
        for cp in model.chargePoints {
            if offlineChargers.contains(cp.device) {
                measurements.chargers[cp.device]?.online = false
                continue
            }
            measurements.chargers[cp.device] = ChargerSample(
                time: now, connected: cars[cp.id] != nil, currents: draws[cp.id] ?? .zero)
        }
    }

    private mutating func apply(_ decision: Decision) {
        for sp in decision.setpoints {
            guard let car = cars[sp.chargePoint], sp.current >= 6 else {
                draws[sp.chargePoint] = .zero
                continue
            }
            let phases = min(car.phases, sp.phases)
            var terminals = PhaseCurrents.zero
            for t in 0..<phases { terminals[t] = min(sp.current, car.maxCurrent) }
            draws[sp.chargePoint] = terminals
        }
    }
}

extension Decision {
    func current(_ id: String) -> Double { setpoint(id)?.current ?? -1 }
}
