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
    /// Per charge point: the part of `draw` that may be subtracted from a meter reading,
    /// per grid phase. A charger reports less often than the meter sends: after control
    /// lowered a setpoint, the meter already shows the car drawing less while the report
    /// still says more, and meter − report would hide real load (it overloaded a 32 A
    /// connection by 17 A end to end). So a report is believed only up to the lowest
    /// setpoint in force since it (or the meter reading it is subtracted from, whichever
    /// is older) was taken; the error is then always on the safe side.
    var credited: [PhaseCurrents]
    /// Per charge point: set when it runs on its safe current this cycle.
    var fallback: [Fallback?]
    /// Per charge point: current budgeted as drawn regardless of decisions (safe currents), per grid phase.
    var fixed: [PhaseCurrents]
    /// Per charge point: the charger is fresh and says a car is plugged in.
    var connected: [Bool]
    /// Per charge point: terminal currents when measured (for phase detection).
    var terminalCurrents: [PhaseCurrents?]

    static func account(
        model: SiteModel, measurements: Measurements, sessions: [ChargePointSession], now: Date
    ) -> SiteLoads {
        let cpCount = model.chargePoints.count
        var loads = SiteLoads(
            nodeFresh: [], base: [], basePower: [], householdPower: [], draw: Array(repeating: .zero, count: cpCount),
            credited: Array(repeating: .zero, count: cpCount),
            fallback: Array(repeating: nil, count: cpCount), fixed: Array(repeating: .zero, count: cpCount),
            connected: Array(repeating: false, count: cpCount), terminalCurrents: Array(repeating: nil, count: cpCount))

        for (i, cp) in model.chargePoints.enumerated() {
            guard let sample = measurements.chargers[cp.device], sample.online,
                now.timeIntervalSince(sample.time) <= cp.chargerTimeout
            else {
                // The charger falls back to its safe current on its own; we cannot know what
                // it draws, so the worst case is budgeted on every phase it is wired for.
                loads.fallback[i] = .chargerOffline
                loads.fixed[i] = cp.rotation.gridMask(phases: cp.phases) * cp.safeCurrent
                continue
            }
            loads.connected[i] = sample.connected
            if let terminals = sample.currents {
                loads.terminalCurrents[i] = terminals
                loads.draw[i] = cp.rotation.toGrid(terminals)
                // The meters above it may be older than the report (a decision on the timer,
                // a slow meter): the draw they saw is bounded from the older of the two times.
                var since = sample.time
                for n in cp.ancestors {
                    if case .device(let device) = model.nodes[n].meter, let meter = measurements.meters[device] {
                        since = min(since, meter.time)
                    }
                }
                var believed = terminals
                if let bound = lowestSetpoint(since: since, changes: sessions[i].setpointChanges) {
                    for t in 0..<3 { believed[t] = min(believed[t], bound) }
                }
                loads.credited[i] = cp.rotation.toGrid(believed)
            }
        }

        for node in model.nodes {
            switch node.meter {
            case .virtual:
                loads.nodeFresh.append(true)
                loads.base.append(.zero)
                loads.basePower.append(0)
                loads.householdPower.append(0)
            case .device(let device):
                guard let sample = measurements.meters[device], let currents = sample.currents,
                    now.timeIntervalSince(sample.time) <= node.meterTimeout
                else {
                    loads.nodeFresh.append(false)
                    loads.base.append(.zero)
                    loads.basePower.append(0)
                    loads.householdPower.append(0)
                    continue
                }
                var drawn = PhaseCurrents.zero
                var reported = PhaseCurrents.zero
                for cp in node.chargePoints {
                    drawn += loads.credited[cp]
                    reported += loads.draw[cp]
                }
                let meterPower = sample.power ?? (currents * model.voltage).sum()
                loads.nodeFresh.append(true)
                loads.base.append(currents - drawn)
                loads.basePower.append(meterPower - (drawn * model.voltage).sum())
                loads.householdPower.append(meterPower - (reported * model.voltage).sum())
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
            }
        }
        return loads
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
