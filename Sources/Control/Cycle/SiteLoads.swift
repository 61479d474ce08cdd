import Foundation

/// Why a charge point is not controlled this cycle but budgeted at its safe current.
enum Fallback: Equatable {
    case chargerOffline
    case meterStale(node: Int)
}

/// What is known about the site this cycle: which meters are fresh, the load at
/// every node that control does not steer, and which charge points fall back.
///
/// Measured load at a node = meter reading − what the charge points below it draw
/// now, so the allocations decided for them are not counted twice.
struct SiteLoads {
    /// Node meter is fresh (virtual meters always are: they are our own allocations).
    var nodeFresh: [Bool]
    /// Per node: current not drawn by charge points, per grid phase, A (negative = export).
    var base: [PhaseCurrents]
    /// Per node: power not drawn by charge points, W (negative = export). Conservative
    /// (from `credited`), for node power limits.
    var basePower: [Double]
    /// Per node: the household's power for the quarter-hour budget, W: meter minus the
    /// chargers' reports as they are. The budget is energy over 15 minutes and smooths
    /// this estimate over minutes, so a report that lags a setpoint change by a second
    /// costs nothing there; the conservative figure would read every car that just
    /// started as household load and pause it for the budget.
    var householdPower: [Double]
    /// Per charge point: what it draws now on each grid phase, A (0 when not measured).
    var draw: [PhaseCurrents]
    /// Per charge point: set when it runs on its safe current this cycle.
    var fallback: [Fallback?]
    /// Per charge point: current budgeted as drawn regardless of decisions (safe currents), per grid phase.
    var fixed: [PhaseCurrents]
    /// Per charge point: the charger is fresh and says a car is plugged in.
    var connected: [Bool]
    /// Per charge point: terminal currents when measured (for phase detection).
    var terminalCurrents: [PhaseCurrents?]
    /// Per charge point: the most it may draw now on each grid phase, A — the highest limit
    /// it was given within the EV response time, unless a report since showed it followed
    /// the lower one (`CarResponse.allowance`). Safe currents for fallbacks.
    var allowance: [PhaseCurrents]
    /// Per node: the house load's lower bound, meter − the most every car below may have
    /// drawn when it was taken. A limit exceeded even by this is exceeded for sure.
    var baseLow: [PhaseCurrents]
    var basePowerLow: [Double]
    /// Per node: every car below it had followed its last setpoint when the meter reading
    /// and its report were taken, so meter − reports is the house load (virtual meters: always).
    var settled: [Bool]
    /// Per node: the meter reading's time (nil for virtual or stale meters).
    var meterTime: [Date?]

    static func account(
        model: SiteModel, measurements: Measurements, sessions: [ChargePointSession], now: Date
    ) -> SiteLoads {
        let cpCount = model.chargePoints.count
        var loads = SiteLoads(
            nodeFresh: [], base: [], basePower: [], householdPower: [], draw: Array(repeating: .zero, count: cpCount),
            fallback: Array(repeating: nil, count: cpCount), fixed: Array(repeating: .zero, count: cpCount),
            connected: Array(repeating: false, count: cpCount), terminalCurrents: Array(repeating: nil, count: cpCount),
            allowance: Array(repeating: .zero, count: cpCount), baseLow: [], basePowerLow: [], settled: [], meterTime: [])
        let response = model.timing.evResponseSeconds

        for (i, cp) in model.chargePoints.enumerated() {
            guard let sample = measurements.chargers[cp.device], sample.online,
                now.timeIntervalSince(sample.time) <= cp.chargerTimeout
            else {
                // The charger falls back to its safe current on its own; we cannot know what
                // it draws, so the worst case is budgeted on every phase it is wired for.
                loads.fallback[i] = .chargerOffline
                loads.fixed[i] = cp.rotation.gridMask(phases: cp.phases) * cp.safeCurrent
                loads.allowance[i] = loads.fixed[i]
                continue
            }
            loads.connected[i] = sample.connected
            let phases = sessions[i].detectedPhases ?? sessions[i].phases
            let allowed = CarResponse.allowance(
                at: now, changes: sessions[i].setpointChanges, setpoint: sessions[i].setpoint, report: sample,
                response: response)
            loads.allowance[i] = cp.rotation.gridMask(phases: max(phases, sample.currents.map(CarResponse.usedTerminals) ?? 0)) * allowed
            if let terminals = sample.currents {
                loads.terminalCurrents[i] = terminals
                loads.draw[i] = cp.rotation.toGrid(terminals)
            }
        }
        /// What a node's meter, read at `meterTime`, may be credited for charge point `i`.
        /// A charger reports less often than the meter sends: after control lowered a setpoint,
        /// the meter already shows the car drawing less while the report still says more, and
        /// meter − report would hide real load (it overloaded a 32 A connection by 17 A end to
        /// end). So a report is believed only down to the lowest setpoint in force since the
        /// older of the report and that meter's reading; the error is then on the safe side.
        /// Each meter on its own: a slow sub-panel meter must not discredit the reports for
        /// the main one (it stopped every car of a site at each settled view).
        func credited(_ i: Int, meterTime: Date) -> PhaseCurrents {
            let cp = model.chargePoints[i]
            guard loads.fallback[i] == nil, let sample = measurements.chargers[cp.device], var believed = sample.currents
            else { return .zero }
            let since = min(sample.time, meterTime)
            if let bound = lowestSetpoint(since: since, changes: sessions[i].setpointChanges) {
                for t in 0..<3 { believed[t] = min(believed[t], bound) }
            }
            return cp.rotation.toGrid(believed)
        }

        for node in model.nodes {
            switch node.meter {
            case .virtual:
                loads.nodeFresh.append(true)
                loads.base.append(.zero)
                loads.basePower.append(0)
                loads.householdPower.append(0)
                loads.baseLow.append(.zero)
                loads.basePowerLow.append(0)
                loads.settled.append(true)
                loads.meterTime.append(nil)
            case .device(let device):
                guard let sample = measurements.meters[device], let currents = sample.currents,
                    now.timeIntervalSince(sample.time) <= node.meterTimeout
                else {
                    loads.nodeFresh.append(false)
                    loads.base.append(.zero)
                    loads.basePower.append(0)
                    loads.householdPower.append(0)
                    loads.baseLow.append(.zero)
                    loads.basePowerLow.append(0)
                    loads.settled.append(false)
                    loads.meterTime.append(nil)
                    continue
                }
                var drawn = PhaseCurrents.zero
                var reported = PhaseCurrents.zero
                var most = PhaseCurrents.zero
                var settled = true
                for cp in node.chargePoints {
                    drawn += credited(cp, meterTime: sample.time)
                    reported += loads.draw[cp]
                    // A charger on its safe current is budgeted on top of whatever the meter still
                    // sees of it (nobody can tell what it does next), in this view as in the others.
                    if loads.fallback[cp] != nil { continue }
                    let chargePoint = model.chargePoints[cp]
                    let report = measurements.chargers[chargePoint.device]
                    let allowedThen = CarResponse.allowance(
                        at: sample.time, changes: sessions[cp].setpointChanges, setpoint: sessions[cp].setpoint,
                        report: report, response: response, forRoom: false)
                    let phases = sessions[cp].detectedPhases ?? sessions[cp].phases
                    let used = max(phases, report?.currents.map(CarResponse.usedTerminals) ?? 0)
                    most += chargePoint.rotation.gridMask(phases: used) * max(allowedThen, report?.currents?.max() ?? 0)
                    if !CarResponse.settled(
                        meterTime: sample.time, changes: sessions[cp].setpointChanges, report: report, response: response)
                    {
                        settled = false
                    }
                }
                let meterPower = sample.power ?? (currents * model.voltage).sum()
                loads.nodeFresh.append(true)
                loads.base.append(currents - drawn)
                loads.basePower.append(meterPower - (drawn * model.voltage).sum())
                loads.householdPower.append(meterPower - (reported * model.voltage).sum())
                loads.baseLow.append(currents - most)
                loads.basePowerLow.append(meterPower - (most * model.voltage).sum())
                loads.settled.append(settled)
                loads.meterTime.append(sample.time)
            }
        }

        // A stale meter anywhere above a charge point: it runs on its safe current,
        // budgeted as drawn when a car is plugged in (or when we cannot tell).
        for (i, cp) in model.chargePoints.enumerated() where loads.fallback[i] == nil {
            guard let stale = cp.ancestors.last(where: { !loads.nodeFresh[$0] }) else { continue }
            loads.fallback[i] = .meterStale(node: stale)
            if loads.connected[i] {
                let phases = sessions[i].detectedPhases ?? cp.phases
                loads.fixed[i] = cp.rotation.gridMask(phases: phases) * cp.safeCurrent
                loads.allowance[i] = loads.fixed[i]
            }
        }
        return loads
    }

    /// What the chargers on safe currents below node `n` are budgeted as drawing, per phase.
    func fixedCurrents(below n: Int, model: SiteModel) -> PhaseCurrents {
        model.nodes[n].chargePoints.reduce(PhaseCurrents.zero) { $0 + fixed[$1] }
    }

    /// The lowest current the car may draw now given a report taken at `reportTime`:
    /// the setpoint in force then and every one decided since. Nil without history.
    static func lowestSetpoint(since reportTime: Date, changes: [SetpointChange]?) -> Double? {
        guard let changes, !changes.isEmpty else { return nil }
        // Nothing known from before the measurement: it may have seen the car drawing nothing.
        guard changes[0].time < reportTime else { return 0 }
        var lowest: Double?
        for change in changes {
            // A change at the very time of a measurement was decided on it, so after it.
            if change.time < reportTime {
                lowest = change.current  // the one in force at the report (later ones replace it)
            } else {
                lowest = min(lowest ?? change.current, change.current)
            }
        }
        return lowest
    }
}

/// How far a car may be from its setpoint: cars take up to the EV response time to
/// follow a new limit (IEC 61851-1: 5 s for a lower one), and rise with a ramp.
enum CarResponse {
    /// A report within this of the setpoint (or below a lowered one) shows the car followed, A.
    static let followTolerance = 1.0

    /// Terminals that carry a current in a report (a car uses terminals 1, 1-2 or 1-2-3).
    static func usedTerminals(_ terminals: PhaseCurrents) -> Int {
        let strongest = terminals.max()
        guard strongest >= SessionUpdate.detectionCurrent else { return 0 }
        return (0..<3).last(where: { terminals[$0] >= strongest * SessionUpdate.detectionShare }).map { $0 + 1 } ?? 0
    }

    /// The most the car may draw at `time`, A per phase: the highest setpoint in force within
    /// `response` before it — except those a report taken after a lower setpoint showed the
    /// car to be below already — and never less than a report taken after the last change shows.
    ///
    /// `forRoom`: the allowance counted as room another car may not take (break before make),
    /// where a car lowered while still ramping up keeps its old limit until the response time
    /// passes. The lower bound of the house (`baseLow`) takes it without that guard: a larger
    /// allowance there would hide a limit exceeded for sure.
    static func allowance(
        at time: Date, changes: [SetpointChange]?, setpoint: Double, report: ChargerSample?, response: TimeInterval,
        forRoom: Bool = true
    ) -> Double {
        guard let changes, !changes.isEmpty else { return max(setpoint, reportedMax(report, after: nil)) }
        let windowStart = time.addingTimeInterval(-response)
        // The change in force at the start of the window, and everything decided after it (up to `time`).
        var first = changes.lastIndex(where: { $0.time <= windowStart }) ?? 0
        // A report after a change that shows the car at or below it: the car follows that one
        // (unless it was well below it when lowered: still ramping up, it may rise on).
        if let report, let drawn = report.currents?.max(), report.time <= time,
            let before = changes.lastIndex(where: { $0.time < report.time }), before > first,
            drawn <= changes[before].current + followTolerance, !forRoom || cameDown(to: changes[before])
        {
            first = before
        }
        var most = 0.0
        for change in changes[first...] where change.time <= time { most = max(most, change.current) }
        let last = changes.last(where: { $0.time <= time })
        return max(most, reportedMax(report, after: last?.time))
    }

    /// A report at or below a lowered limit shows the car followed it only if the car drew at
    /// least about that limit when it was lowered. One still ramping up well below it (cars rise
    /// over seconds) passes through the new limit on its way to the old one, which it may keep
    /// for the EV response time. Unknown (no report then): believed.
    static func cameDown(to change: SetpointChange) -> Bool {
        change.drawnBefore.map { $0 >= change.current - followTolerance } ?? true
    }

    /// A report taken after `after` (and not older than a few seconds) shows what the car draws.
    private static func reportedMax(_ report: ChargerSample?, after: Date?) -> Double {
        guard let report, let currents = report.currents, report.connected else { return 0 }
        if let after, report.time <= after { return 0 }
        return currents.max()
    }

    /// The car had followed its last setpoint when a meter reading taken at `meterTime` was:
    /// the response time had passed, or a report taken after the change (and not after the
    /// meter reading) showed it at its setpoint.
    static func settled(meterTime: Date, changes: [SetpointChange]?, report: ChargerSample?, response: TimeInterval)
        -> Bool
    {
        // A change decided at or after the reading: the reading saw the car before it.
        guard let last = changes?.last, last.time > .distantPast else { return true }
        if meterTime.timeIntervalSince(last.time) >= response {
            // ...unless the report beside the reading is older than it, was taken before the car
            // had its response time, and shows it still below its new limit: a car ramping up
            // then drew more by the time of the reading, and the house looked heavier by the
            // difference (a start stopped again 6 s later, every 26 s: acceptance seed 30130).
            return !rampingUnseen(meterTime: meterTime, last: last, report: report, response: response)
        }
        guard let report, report.time > last.time, report.time <= meterTime else { return false }
        guard let drawn = report.currents?.max() else { return false }
        if !report.connected { return last.current == 0 || drawn < followTolerance }
        return followed(drawn: drawn, setpoint: last.current, before: changes.flatMap { $0.dropLast().last?.current })
    }

    /// The report was taken after `last`, before the reading and before the car had its
    /// response time, and shows it below that limit: it may have risen since. (A report from
    /// before the change says nothing of the ramp; the response time alone judges it.)
    static func rampingUnseen(meterTime: Date, last: SetpointChange, report: ChargerSample?, response: TimeInterval)
        -> Bool
    {
        guard let report, report.connected, report.time > last.time, report.time < meterTime,
            report.time.timeIntervalSince(last.time) < response, let drawn = report.currents?.max()
        else { return false }
        return drawn < last.current - followTolerance
    }

    /// A report shows the car at its new setpoint: within the tolerance of it, and nearer
    /// to it than to the one before (a small change is not confirmed by a car that has not moved).
    static func followed(drawn: Double, setpoint: Double, before: Double?) -> Bool {
        if setpoint < 6 { return drawn < followTolerance }
        guard abs(drawn - setpoint) <= followTolerance else { return false }
        guard let before else { return true }
        return abs(drawn - setpoint) < abs(drawn - min(before, 32)) || abs(before - setpoint) < 1e-9
    }
}
