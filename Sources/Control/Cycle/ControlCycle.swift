import Foundation

/// The control cycle: a pure function of the previous state, the site, what was
/// measured and the time. Same input, same output; no I/O, no clock, no sleeping.
///
/// The service calls `run` once per cycle (typically each second, after a new
/// meter telegram) and publishes the decision's setpoints and budget.
public enum ControlCycle {
    public static func run(state: ControlState, model: SiteModel, measurements: Measurements, now: Date)
        -> (state: ControlState, decision: Decision)
    {
        var next = state
        let sessions = model.chargePoints.map { state.sessions[$0.id] ?? ChargePointSession(phases: $0.phases) }
        let loads = SiteLoads.account(model: model, measurements: measurements, sessions: sessions, now: now)

        // Budget bookkeeping from the root meter (node 0).
        let rootFresh = loads.nodeFresh[0]
        let rootSample: MeterSample?
        switch model.nodes[0].meter {
        case .device(let device): rootSample = rootFresh ? measurements.meters[device] : nil
        case .virtual:
            // A connection that feeds only charge points imports what they draw.
            let drawn = loads.draw.reduce(PhaseCurrents.zero, +)
            rootSample = MeterSample(time: now, currents: drawn, power: (drawn * model.voltage).sum())
        }
        next.budget = QuarterHourBudget.advance(
            state.budget, sample: rootSample, householdPower: rootFresh ? loads.householdPower[0] : nil, now: now,
            model: model)
        var budget = QuarterHourBudget.figures(
            next.budget, settings: state.settings, householdNow: rootFresh ? loads.householdPower[0] : nil, now: now,
            model: model, meterFresh: rootFresh)

        // The cars the solver may steer, and the limits they share.
        let plan = Planner(model: model, settings: state.settings, sessions: sessions, loads: loads, now: now)
        var allocation = plan.allocation(budget: budget)
        let history = plan.history(allocation)
        let householdEstimate = budget.householdEstimateW
        let fixedPower = loads.fixed.reduce(0) { $0 + ($1 * model.voltage).sum() }
        var notes = allocation.admitAndFill(
            history: history,
            timing: AdmissionTiming(now: now, minRun: model.timing.minRunSeconds, minPause: model.timing.minPauseSeconds),
            surplusCapacity: { a in
                var used = householdEstimate + fixedPower
                for c in a.candidates where c.stage != .solar { used += c.current * Double(c.phases) * model.voltage }
                return max(0, -used)
            })
        plan.switchUpIfRoom(&allocation, history: history, notes: &notes)
        allocation.roundToSteps(steps: allocation.candidates.map { model.chargePoints[$0.chargePoint].currentStep })
        let previous = allocation.candidates.map { c in
            sessions[c.chargePoint].phases == c.phases ? sessions[c.chargePoint].setpoint : 0
        }
        let held = allocation.applyHysteresis(previous: previous, hysteresis: model.timing.hysteresisA)

        // Setpoints, in configuration order.
        var setpoints: [Setpoint] = []
        var allocated = [PhaseCurrents](repeating: .zero, count: model.chargePoints.count)
        var candidateOf = [Int?](repeating: nil, count: model.chargePoints.count)
        for (k, c) in allocation.candidates.enumerated() { candidateOf[c.chargePoint] = k }
        var carPower = fixedPower
        for (i, cp) in model.chargePoints.enumerated() {
            var current = 0.0
            var phases = sessions[i].detectedPhases ?? sessions[i].phases
            let reason: SetpointReason
            var note: SetpointReason?
            if let fallback = loads.fallback[i] {
                current = cp.safeCurrent
                switch fallback {
                case .chargerOffline:
                    reason = .chargerOffline
                    phases = cp.phases  // budgeted on every wired phase: its car is unknown
                case .meterStale(let node): reason = .meterStale(node: model.nodes[node].id)
                }
            } else if let k = candidateOf[i] {
                let c = allocation.candidates[k]
                current = c.current
                phases = c.phases
                allocated[i] = c.mask * c.current
                carPower += c.current * Double(c.phases) * model.voltage
                note = notes[k]
                if let note {
                    reason = note
                } else if held[k] {
                    reason = .holding
                } else if current == 0 {
                    reason = .waitingForPower(c.boundBy ?? .budget)
                } else {
                    reason = c.boundBy.map { .limitedBy($0) } ?? .atMaximum
                }
            } else {
                reason = loads.connected[i] ? .modeOff : .noCar
            }
            setpoints.append(
                Setpoint(
                    chargePoint: cp.id, current: current, phases: phases, reason: reason,
                    power: current * Double(phases) * model.voltage))
            var switched = false
            if case .switchingPhases = note { switched = true }
            next.sessions[cp.id] = SessionUpdate.after(
                sessions[i], chargePoint: cp, setpoint: current, phases: phases, connected: loads.connected[i],
                terminalCurrents: loads.terminalCurrents[i], switchedPhases: switched, now: now)
        }

        budget.forecastW = QuarterHourBudget.forecast(
            budget, energySoFar: next.budget.quarterEnergy, importPower: householdEstimate + carPower, now: now)
        let nodes = model.nodes.enumerated().map { n, node in
            var below = PhaseCurrents.zero
            for cp in node.chargePoints { below += allocated[cp] + loads.fixed[cp] }
            return NodeFigures(
                node: node.id, meterFresh: loads.nodeFresh[n], limit: node.limit, uncontrolled: loads.base[n],
                chargePoints: below)
        }
        return (next, Decision(setpoints: setpoints, budget: budget, nodes: nodes))
    }
}
