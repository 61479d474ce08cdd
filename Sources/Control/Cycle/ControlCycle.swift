import Foundation

/// The control cycle: a pure function of the previous state, the site, what was
/// measured and the time. Same input, same output; no I/O, no clock, no sleeping.
///
/// The service calls `run` once per cycle (typically each second, after a new
/// meter telegram) and publishes the decision's setpoints and budget.
///
/// Meters and chargers are sampled at different instants and cars take seconds to
/// follow a new limit, so one cycle sees the house through three views
/// (`SiteLoads`, `Sequencing`):
/// - a **lower bound** of the house load (meter − the most every car may draw): a
///   limit exceeded even there is exceeded for sure, and cars are lowered at once,
///   stopped if need be;
/// - the **cautious** view (meter − what each report is believed for): a limit exceeded
///   there is acted on (lowered, stopped if need be) once the view is settled — a car's own
///   ramp-up seen by the meter before its report must not move the others (lowering to the
///   cautious share on an unsettled view brought the hunting back: 4–14 changes in quiet
///   spells of `WhyScenarioTests`); until then only the lower bound acts;
/// - for **increases**, the highest settled view of the last seconds, held (a fall smaller
///   than the hysteresis is the house's noise, `Sequencing.held`): cars are raised
///   (or started, or re-shared) only on a reading taken after every car below had
///   followed its last setpoint, at most every `increaseIntervalSeconds`, and only into
///   room that is free even if the cars lowered in the same breath have not followed yet
///   (break before make).
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

        // The house load increases are decided on: the highest settled view of the last seconds, held.
        let (views, highest, highestPower) = Sequencing.recentViews(
            state.houseViews ?? [:], loads: loads, model: model)
        next.houseViews = views
        let (held, raiseBase, raiseBasePower) = Sequencing.held(
            state.heldViews ?? [:], base: highest, basePower: highestPower, loads: loads, model: model, now: now)
        next.heldViews = held

        let timing = AdmissionTiming(
            now: now, minRun: model.timing.minRunSeconds, minPause: model.timing.minPauseSeconds,
            turn: model.timing.turnSeconds)
        let margin = model.timing.breakerMarginA
        let target = solve(
            Planner(
                model: model, settings: state.settings, sessions: sessions, loads: loads, now: now,
                base: raiseBase, basePower: raiseBasePower, breakerMargin: margin),
            budget: budget, loads: loads, timing: timing)
        var safeTiming = timing
        safeTiming.turn = 0

        var sequencing = Sequencing(
            model: model, sessions: sessions, loads: loads, now: now, raiseBase: raiseBase,
            raiseBasePower: raiseBasePower)
        let chosen = sequencing.choose(target: target) {
            solve(
                Planner(
                    model: model, settings: state.settings, sessions: sessions, loads: loads, now: now,
                    breakerMargin: margin, keepRunningToLimit: false),
                budget: budget, loads: loads, timing: safeTiming)
        }

        // Setpoints, in configuration order.
        var setpoints: [Setpoint] = []
        var allocated = [PhaseCurrents](repeating: .zero, count: model.chargePoints.count)
        var carPower = loads.fixed.reduce(0) { $0 + ($1 * model.voltage).sum() }
        for (i, cp) in model.chargePoints.enumerated() {
            var current = 0.0
            var phases = sessions[i].detectedPhases ?? sessions[i].phases
            var reason: SetpointReason
            var switched = false
            if let fallback = loads.fallback[i] {
                current = cp.safeCurrent
                switch fallback {
                case .chargerOffline:
                    reason = .chargerOffline
                    phases = cp.phases  // budgeted on every wired phase: its car is unknown
                    // Not heard from (at start, before its first report) or gone quiet: writing
                    // its safe current where it does not fit would start a car into a full
                    // phase should the charger hear us. Asked for 0, it is still budgeted.
                    if !safeCurrentFits(i, model: model, loads: loads) {
                        current = 0
                        reason = .chargerOfflineNoRoom
                    }
                case .meterStale(let node): reason = .meterStale(node: model.nodes[node].id)
                }
            } else if let choice = chosen[i] {
                current = choice.current
                phases = choice.phases
                reason = choice.reason
                switched = choice.switchedPhases
                allocated[i] = model.chargePoints[i].rotation.gridMask(phases: phases) * current
                carPower += current * Double(phases) * model.voltage
            } else {
                reason = loads.connected[i] ? .modeOff : .noCar
            }
            setpoints.append(
                Setpoint(
                    chargePoint: cp.id, current: current, phases: phases, reason: reason,
                    power: current * Double(phases) * model.voltage))
            var session: ChargePointSession
            if loads.fallback[i] == .chargerOffline {
                // Unknown, not unplugged: the charger applies its safe current on its own, and
                // that is what it may draw when it answers again (before our next setpoint reaches it).
                session = sessions[i]
                if session.setpoint != current || (session.setpointChanges ?? []).isEmpty {
                    session.setpointChanges = SessionUpdate.recordChange(
                        session.setpointChanges, current: current, now: now, keep: cp.chargerTimeout)
                }
                session.setpoint = current
                session.phases = phases
            } else {
                session = SessionUpdate.after(
                    sessions[i], chargePoint: cp, setpoint: current, phases: phases, connected: loads.connected[i],
                    terminalCurrents: loads.terminalCurrents[i], switchedPhases: switched,
                    timing: model.timing, now: now)
            }
            if loads.connected[i] && loads.fallback[i] == nil {
                // Safe currents are the charger's own business: they do not space control's increases.
                if current > sessions[i].setpoint { session.lastIncrease = now }
                session.waitingSince = chosen[i] != nil && current == 0 ? (sessions[i].waitingSince ?? now) : nil
            }
            next.sessions[cp.id] = session
        }

        budget.forecastW = QuarterHourBudget.forecast(
            budget, energySoFar: next.budget.quarterEnergy, importPower: budget.householdEstimateW + carPower, now: now)
        let nodes = model.nodes.enumerated().map { n, node in
            var below = PhaseCurrents.zero
            for cp in node.chargePoints { below += allocated[cp] + loads.fixed[cp] }
            return NodeFigures(
                node: node.id, meterFresh: loads.nodeFresh[n], limit: node.limit, uncontrolled: loads.base[n],
                chargePoints: below)
        }
        next.stats = ControlStatistics.update(
            state.stats, previous: sessions, setpoints: setpoints, target: target, chosen: chosen, model: model,
            measurements: measurements, now: now)
        return (next, Decision(setpoints: setpoints, budget: budget, nodes: nodes))
    }

    /// One allocation: admission, water-filling, 1p→3p switching and rounding to the chargers' steps.
    /// Whether an offline charger's safe current fits under every per-phase limit above it
    /// on the house as read, with every offline charger's safe current counted. A subtree whose
    /// meter is stale cannot tell: its safe current stands.
    static func safeCurrentFits(_ i: Int, model: SiteModel, loads: SiteLoads) -> Bool {
        let cp = model.chargePoints[i]
        let mask = cp.rotation.gridMask(phases: cp.phases)
        for n in cp.ancestors where loads.nodeFresh[n] {
            let fixed = loads.fixedCurrents(below: n, model: model)
            for p in 0..<3 where mask[p] > 0 && model.nodes[n].limit[p] - loads.base[n][p] - fixed[p] < -1e-9 {
                return false
            }
        }
        return true
    }

    static func solve(_ plan: Planner, budget: BudgetFigures, loads: SiteLoads, timing: AdmissionTiming) -> Solution {
        let model = plan.model
        var allocation = plan.allocation(budget: budget)
        let history = plan.history(allocation)
        let householdEstimate = budget.householdEstimateW
        let fixedPower = loads.fixed.reduce(0) { $0 + ($1 * model.voltage).sum() }
        var notes = allocation.admitAndFill(
            history: history, timing: timing,
            surplusCapacity: { a in
                var used = householdEstimate + fixedPower
                for c in a.candidates where c.stage != .solar { used += c.current * Double(c.phases) * model.voltage }
                return max(0, -used)
            })
        plan.switchUpIfRoom(&allocation, history: history, notes: &notes)
        let exact = allocation.candidates.map(\.current)
        allocation.roundToSteps(steps: allocation.candidates.map { model.chargePoints[$0.chargePoint].currentStep })
        return Solution(allocation: allocation, notes: notes, exact: exact)
    }
}

/// An allocation and the notes admission left on it.
struct Solution {
    var allocation: Allocation
    var notes: [SetpointReason?]
    /// Per candidate: the share before rounding to the charger's step, A.
    var exact: [Double]

    /// Why candidate `k` got its current.
    func reason(_ k: Int) -> SetpointReason {
        let c = allocation.candidates[k]
        if let note = notes[k] { return note }
        if c.current == 0 { return .waitingForPower(c.boundBy ?? .budget) }
        return c.boundBy.map { .limitedBy($0) } ?? .atMaximum
    }
}
