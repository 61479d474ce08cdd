import Foundation

/// Builds the cycle's allocation problem from the site, the settings and the loads:
/// one candidate per plugged-in car that control steers, one constraint per panel
/// phase (and power limit), plus the quarter-hour budget and the solar surplus.
struct Planner {
    let model: SiteModel
    let settings: ControlSettings
    let sessions: [ChargePointSession]
    let loads: SiteLoads
    let now: Date
    /// Per node: the load the plan assumes control does not steer, A per grid phase, and W.
    var base: [PhaseCurrents]
    var basePower: [Double]
    /// Kept free below breaker limits, A per phase.
    var breakerMargin: Double = 0
    /// A running car keeps its minimum up to the breaker's limit itself (the margin is for
    /// raises and starts). Not when re-planning an exceeded limit: that plan keeps the margin,
    /// or a car kept at the very limit would leave the overload standing on the next noise.
    var keepRunningToLimit = true

    init(
        model: SiteModel, settings: ControlSettings, sessions: [ChargePointSession], loads: SiteLoads, now: Date,
        base: [PhaseCurrents]? = nil, basePower: [Double]? = nil, breakerMargin: Double = 0,
        keepRunningToLimit: Bool = true
    ) {
        self.model = model
        self.settings = settings
        self.sessions = sessions
        self.loads = loads
        self.now = now
        self.base = base ?? loads.base
        self.basePower = basePower ?? loads.basePower
        self.breakerMargin = breakerMargin
        self.keepRunningToLimit = keepRunningToLimit
    }

    func stage(of cp: SiteModel.ChargePoint) -> Stage? {
        switch settings.modes[cp.id] ?? cp.mode {
        case .automatic: .automatic
        case .manual: .manual
        case .solar: .solar
        case .off: nil
        }
    }

    func allocation(budget: BudgetFigures) -> Allocation {
        var candidates: [Candidate] = []
        var candidateOf = [Int?](repeating: nil, count: model.chargePoints.count)
        // Rank: higher priority first, then configuration order ("from point 1 upward").
        let ranked = model.chargePoints.indices.sorted {
            let a = settings.priorities[model.chargePoints[$0].id] ?? model.chargePoints[$0].priority
            let b = settings.priorities[model.chargePoints[$1].id] ?? model.chargePoints[$1].priority
            return a != b ? a > b : $0 < $1
        }
        var rankOf = [Int](repeating: 0, count: model.chargePoints.count)
        for (r, i) in ranked.enumerated() { rankOf[i] = r }

        for (i, cp) in model.chargePoints.enumerated()
        where loads.fallback[i] == nil && loads.connected[i] {
            guard let stage = stage(of: cp) else { continue }
            let phases = sessions[i].detectedPhases ?? sessions[i].phases
            var maximum = cp.maxCurrent
            let notDrawing = notDrawing(i)
            if notDrawing { maximum = cp.minCurrent }
            if stage == .manual {
                maximum = min(cp.maxCurrent, max(cp.minCurrent, settings.manualCurrents[cp.id] ?? cp.maxCurrent))
            }
            candidateOf[i] = candidates.count
            candidates.append(
                Candidate(
                    chargePoint: i, stage: stage, rank: rankOf[i],
                    priority: settings.priorities[cp.id] ?? cp.priority, phases: phases,
                    mask: cp.rotation.gridMask(phases: phases), onePhaseMask: cp.rotation.gridMask(phases: 1),
                    threePhaseMask: cp.rotation.gridMask(phases: 3), minimum: cp.minCurrent,
                    startMinimum: min(cp.minCurrent + cp.startBuffer, maximum), maximum: maximum,
                    notDrawing: notDrawing))
        }

        var constraints: [Constraint] = []
        for (n, node) in model.nodes.enumerated() where loads.nodeFresh[n] {
            let members = node.chargePoints.compactMap { candidateOf[$0] }
            guard !members.isEmpty else { continue }
            let fixed = loads.fixedCurrents(below: n, model: model)
            for p in 0..<3 {
                constraints.append(
                    Constraint(
                        limit: .breaker(node: node.id, phase: p + 1),
                        capacity: node.limit[p] - breakerMargin - base[n][p] - fixed[p],
                        phase: p, members: members,
                        // A running car is stopped only by the limit itself (see `admitAndFill`).
                        stopCapacity: keepRunningToLimit ? node.limit[p] - base[n][p] - fixed[p] : nil))
            }
            if let powerLimit = node.powerLimitW {
                constraints.append(
                    Constraint(
                        limit: .power(node: node.id),
                        capacity: powerLimit - basePower[n] - (fixed * model.voltage).sum(), phase: nil,
                        members: members))
            }
        }
        if budget.meterFresh {
            let all = Array(candidates.indices)
            let fixedPower = loads.fixed.reduce(0) { $0 + ($1 * model.voltage).sum() }
            constraints.append(
                Constraint(
                    limit: .budget, capacity: budget.allowedRestW - budget.householdW - fixedPower, phase: nil,
                    members: all,
                    // Stop only when the smoothed load says so too: a spike that is already over
                    // (the sun back after a cloud) must not stop a car either.
                    stopCapacity: max(
                        budget.toleratedRestW - budget.householdEstimateW - fixedPower,
                        budget.allowedRestW - budget.householdW - fixedPower)))
            // Capacity set once the other cars are served (see `admitAndFill`).
            constraints.append(
                Constraint(
                    limit: .surplus, capacity: .greatestFiniteMagnitude, phase: nil,
                    members: all.filter { candidates[$0].stage == .solar }))
        }
        return Allocation(candidates: candidates, constraints: constraints, voltage: model.voltage)
    }

    /// The car drew nothing for `idleSeconds` of its run, and is not yet due to be offered
    /// current afresh (paused for `turnSeconds`).
    func notDrawing(_ i: Int) -> Bool {
        let session = sessions[i]
        guard session.notDrawing == true else { return false }
        if session.setpoint == 0, let paused = session.pausedSince, model.timing.turnSeconds > 0 {
            return now.timeIntervalSince(paused) < model.timing.turnSeconds
        }
        return true
    }

    func history(_ allocation: Allocation) -> [CarHistory] {
        allocation.candidates.map { c in
            let cp = model.chargePoints[c.chargePoint]
            let session = sessions[c.chargePoint]
            let switchDue = session.lastPhaseSwitch.map { now.timeIntervalSince($0) >= model.timing.phaseSwitchSeconds } ?? true
            return CarHistory(
                running: session.setpoint > 0, runningSince: session.runningSince, pausedSince: session.pausedSince,
                waitingSince: session.waitingSince,
                maySwitchPhases: cp.phaseSwitching && session.detectedPhases == nil && switchDue)
        }
    }

    /// A car switched down to one phase goes back to three once it is at its
    /// one-phase maximum and three phases at the start minimum fit beside everyone
    /// as allocated now.
    func switchUpIfRoom(_ allocation: inout Allocation, history: [CarHistory], notes: inout [SetpointReason?]) {
        for k in allocation.candidates.indices {
            let c = allocation.candidates[k]
            guard history[k].maySwitchPhases, history[k].running, c.phases == 1, c.current > 0,
                c.current >= c.maximum - Allocation.tolerance
            else { continue }
            allocation.candidates[k].phases = 3
            allocation.candidates[k].mask = c.threePhaseMask
            allocation.candidates[k].current = c.startMinimum
            if allocation.violation({ _ in true }) == nil {
                notes[k] = .switchingPhases(to: 3)
            } else {
                allocation.candidates[k] = c
            }
        }
    }
}
