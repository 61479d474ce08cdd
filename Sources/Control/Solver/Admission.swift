import Foundation

/// What admission needs to know about a car's recent past (the anti-flap timers).
struct CarHistory {
    /// The car had a non-zero setpoint at the last cycle.
    var running: Bool
    var runningSince: Date?
    var pausedSince: Date?
    /// A plugged-in car without current since then.
    var waitingSince: Date?
    /// The charger can switch 1p/3p and its last switch is long enough ago.
    var maySwitchPhases: Bool
}

struct AdmissionTiming {
    var now: Date
    var minRun: TimeInterval
    var minPause: TimeInterval
    /// A car that ran this long gives way to one waiting for its minimum (0: never).
    var turn: TimeInterval = 0
}

/// Which cars charge at all, then how much: cars are admitted at their minimum
/// in rank order (priority, then charge point 1 upward), running cars before new
/// ones so that a new car never stops one already charging; then each stage is
/// water-filled. A new car starts only if its minimum plus start buffer fits
/// with every admitted car at its minimum ("a second car starts only when both
/// minimums fit"); the others are then lowered by the filling.
extension Allocation {
    mutating func admitAndFill(history: [CarHistory], timing: AdmissionTiming, surplusCapacity: (Allocation) -> Double)
        -> [SetpointReason?]
    {
        var notes = [SetpointReason?](repeating: nil, count: candidates.count)
        let order = candidates.indices.sorted { candidates[$0].rank < candidates[$1].rank }
        let installation: (Limit) -> Bool = { $0.protectsInstallation }
        let economic: (Limit) -> Bool = { $0 != .surplus }

        // A. Running cars keep their minimum while the installation allows it: under the
        //    breakers' real limits, not the margin below them that raises and starts aim at
        //    (house noise inside the margin stopped a running car at its minimum, and its
        //    pause and restart were changes on a steady site: acceptance seed 10017).
        withStopCapacities(installation) {
            for k in order where history[k].running {
                if let blocked = $0.tryAdmit(k, at: $0.candidates[k].minimum, under: installation) {
                    if $0.switchToOnePhase(k, history[k], at: $0.candidates[k].minimum, under: installation) {
                        notes[k] = .switchingPhases(to: 1)
                    } else {
                        notes[k] = .stopped(blocked)
                    }
                }
            }
        }

        // B. The budget is economic: a car that has not run its minimum time stays at its minimum,
        //    and running cars are judged against the tolerated (not the aimed-at) budget.
        withStopCapacity(of: .budget) {
            $0.shed(.budget, stages: [.manual, .automatic, .solar], order: order, history: history, timing: timing, notes: &notes)
        }

        // C. New cars, manual and automatic ones first; among equal priorities the one waiting
        //    longest first (a three-phase car waiting for room was overtaken by single-phase
        //    cars plugged in after it, each fitting where it did not: acceptance seed 30965).
        let arrivals = Self.firstComeFirstServed(order, candidates: candidates, history: history, now: timing.now)
        for k in arrivals where !history[k].running && candidates[k].stage != .solar && !candidates[k].notDrawing {
            admitNew(k, history: history, timing: timing, under: economic, notes: &notes)
        }
        fill(.manual)
        fill(.automatic)
        if yieldNotDrawing(stages: [.manual, .automatic], notes: &notes) {
            fill(.manual)
            fill(.automatic)
        }
        admitNotDrawing(stages: [.manual, .automatic], order: order, history: history, timing: timing, under: economic, notes: &notes)

        // D. Solar-only cars get what the others leave of the export.
        if let s = constraints.firstIndex(where: { $0.limit == .surplus }) {
            constraints[s].capacity = surplusCapacity(self)
        }
        shed(.surplus, stages: [.solar], order: order, history: history, timing: timing, notes: &notes)
        for k in arrivals where !history[k].running && candidates[k].stage == .solar && !candidates[k].notDrawing {
            admitNew(k, history: history, timing: timing, under: { _ in true }, notes: &notes)
        }
        fill(.solar)
        if yieldNotDrawing(stages: [.solar], notes: &notes) { fill(.solar) }
        admitNotDrawing(stages: [.solar], order: order, history: history, timing: timing, under: { _ in true }, notes: &notes)
        coupleSurplusToEveryCar()
        // A car kept for its run time but then given more by the filling was not held after all.
        for k in candidates.indices {
            if candidates[k].notDrawing && candidates[k].current > 0 && notes[k] == nil {
                notes[k] = .notDrawing(paused: false)
            }
            if case .keptAtMinimum = notes[k], candidates[k].current > candidates[k].minimum + Self.tolerance {
                notes[k] = nil
            }
        }
        return notes
    }

    /// Rank order with waiting cars of equal priority taken by how long they have waited.
    static func firstComeFirstServed(_ order: [Int], candidates: [Candidate], history: [CarHistory], now: Date) -> [Int] {
        order.enumerated().sorted { a, b in
            let (ca, cb) = (candidates[a.element], candidates[b.element])
            if ca.priority != cb.priority { return ca.priority > cb.priority }
            let (wa, wb) = (history[a.element].waitingSince ?? now, history[b.element].waitingSince ?? now)
            return wa != wb ? wa < wb : a.offset < b.offset
        }.map(\.element)
    }

    /// The surplus constraint's capacity is the export the other cars left when the
    /// solar-only cars were filled. Once solar cars run, any later raise of another
    /// car (a 1p→3p switch, a step handed out after rounding) takes from that same
    /// export, so from here on the constraint counts every car against the whole export.
    /// Not when solar cars run beyond the surplus only because of their minimum run time:
    /// they get nothing more anyway, and the others are not bound by an export there is not.
    private mutating func coupleSurplusToEveryCar() {
        guard let s = constraints.firstIndex(where: { $0.limit == .surplus }),
            candidates.contains(where: { $0.stage == .solar && $0.current > 0 }),
            load(constraints[s]) <= constraints[s].capacity + Self.tolerance
        else { return }
        for k in candidates.indices where candidates[k].stage != .solar {
            constraints[s].capacity += coefficient(constraints[s], k) * candidates[k].current
            constraints[s].members.append(k)
        }
    }

    private mutating func withStopCapacity(of limit: Limit, _ body: (inout Allocation) -> Void) {
        withStopCapacities({ $0 == limit }, body)
    }

    /// Runs `body` with the constraints `include` selects at their stop capacities.
    private mutating func withStopCapacities(_ include: (Limit) -> Bool, _ body: (inout Allocation) -> Void) {
        let steering = constraints.map(\.capacity)
        for i in constraints.indices where include(constraints[i].limit) {
            if let stop = constraints[i].stopCapacity { constraints[i].capacity = stop }
        }
        body(&self)
        for i in constraints.indices { constraints[i].capacity = steering[i] }
    }

    /// Stops the lowest-ranked cars (of `stages`) until `limit` holds, sparing those
    /// still within their minimum run time.
    private mutating func shed(
        _ limit: Limit, stages: [Stage], order: [Int], history: [CarHistory], timing: AdmissionTiming,
        notes: inout [SetpointReason?]
    ) {
        guard violation({ $0 == limit }) != nil else { return }
        // Solar-only cars go first, then by rank from the lowest. Stage and rank do not
        // change while shedding, and stopping a car changes no other car, so the order and
        // the cars that may stop are worked out once: sorting and filtering again for every
        // car stopped made this quadratic (a 230 ms cycle at 1000 points when a quarter-hour
        // boundary stopped 268 cars, issue 15).
        let byDropOrder = order.sorted {
            let (a, b) = (candidates[$0].stage, candidates[$1].stage)
            return a != b ? a > b : candidates[$0].rank > candidates[$1].rank
        }
        let mayStop = byDropOrder.filter { k in
            guard candidates[k].current > 0, stages.contains(candidates[k].stage) else { return false }
            guard let since = history[k].runningSince else { return true }
            return timing.now.timeIntervalSince(since) >= timing.minRun
        }
        var next = mayStop.startIndex
        repeat {
            guard next < mayStop.endIndex else {
                for k in byDropOrder where candidates[k].current > 0 && stages.contains(candidates[k].stage) && notes[k] == nil {
                    let until = (history[k].runningSince ?? timing.now).addingTimeInterval(timing.minRun)
                    notes[k] = .keptAtMinimum(limit, until: until)
                }
                return
            }
            let k = mayStop[next]
            next += 1
            candidates[k].current = 0
            notes[k] = .stopped(limit)
        } while violation({ $0 == limit }) != nil
    }

    private mutating func admitNew(
        _ k: Int, history histories: [CarHistory], timing: AdmissionTiming, under include: (Limit) -> Bool,
        notes: inout [SetpointReason?]
    ) {
        let history = histories[k]
        if let paused = history.pausedSince, timing.now.timeIntervalSince(paused) < timing.minPause {
            notes[k] = .pausing(until: paused.addingTimeInterval(timing.minPause))
            return
        }
        let start = candidates[k].startMinimum
        if let blocked = tryAdmit(k, at: start, under: include) {
            if switchToOnePhase(k, history, at: start, under: include) {
                candidates[k].current = candidates[k].minimum
                notes[k] = .switchingPhases(to: 1)
            } else if let gaveWay = stopNotDrawing(for: k, at: start, under: include, notes: &notes) {
                candidates[k].current = candidates[k].minimum
                notes[gaveWay] = .notDrawing(paused: true)
            } else if let gaveWay = takeTurn(k, history: histories, timing: timing, under: include, notes: notes) {
                candidates[k].current = candidates[k].minimum
                notes[gaveWay] = .givingWay
            } else {
                notes[k] = .waitingForPower(blocked)
            }
            return
        }
        // The start buffer was only the entry test; filling decides the real share.
        candidates[k].current = candidates[k].minimum
    }

    /// A car that draws nothing makes room at once for a car that waits: it has no run to
    /// finish. Returns the car paused, once the waiting car's start minimum fits.
    private mutating func stopNotDrawing(
        for k: Int, at start: Double, under include: (Limit) -> Bool, notes: inout [SetpointReason?]
    ) -> Int? {
        var stopped: [(j: Int, current: Double)] = []
        for j in candidates.indices where j != k && candidates[j].notDrawing && candidates[j].current > 0 {
            stopped.append((j, candidates[j].current))
            candidates[j].current = 0
            if tryAdmit(k, at: start, under: include) == nil {
                for (other, _) in stopped.dropLast() { notes[other] = .notDrawing(paused: true) }
                return j
            }
        }
        for (j, current) in stopped { candidates[j].current = current }
        return nil
    }

    /// After filling: a car that draws nothing, kept at its minimum, is paused when a car
    /// sharing one of its limits is held by that limit. Returns whether one was paused.
    private mutating func yieldNotDrawing(stages: [Stage], notes: inout [SetpointReason?]) -> Bool {
        var yielded = false
        for k in candidates.indices
        where candidates[k].notDrawing && candidates[k].current > 0 && stages.contains(candidates[k].stage) {
            let needed = constraints.contains { c in
                coefficient(c, k) > 0 && c.members.contains(k)
                    && c.members.contains { j in
                        j != k && !candidates[j].notDrawing && candidates[j].current > 0 && candidates[j].boundBy == c.limit
                            && coefficient(c, j) > 0
                    }
            }
            if needed {
                candidates[k].current = 0
                notes[k] = .notDrawing(paused: true)
                yielded = true
            }
        }
        return yielded
    }

    /// A paused car that draws nothing gets its minimum back only into room nobody else
    /// wants (or afresh after its turn, as a new car: see `Planner.notDrawing`).
    private mutating func admitNotDrawing(
        stages: [Stage], order: [Int], history: [CarHistory], timing: AdmissionTiming, under include: (Limit) -> Bool,
        notes: inout [SetpointReason?]
    ) {
        for k in order
        where !history[k].running && candidates[k].notDrawing && candidates[k].current == 0
            && stages.contains(candidates[k].stage)
        {
            if let paused = history[k].pausedSince, timing.now.timeIntervalSince(paused) < timing.minPause {
                notes[k] = .notDrawing(paused: true)
                continue
            }
            if tryAdmit(k, at: candidates[k].startMinimum, under: include) == nil {
                candidates[k].current = candidates[k].minimum
                notes[k] = .notDrawing(paused: false)
            } else {
                notes[k] = .notDrawing(paused: true)
            }
        }
    }

    /// When a waiting car's minimum does not fit, the running car of equal or lower priority
    /// (same stage) that has charged longest, at least `turn` seconds, gives way to it — if
    /// that makes room. Returns the car stopped. The waiting car must have waited its
    /// minimum pause, so two cars swap at most once per turn and neither waits forever.
    private mutating func takeTurn(
        _ k: Int, history: [CarHistory], timing: AdmissionTiming, under include: (Limit) -> Bool,
        notes: [SetpointReason?]
    ) -> Int? {
        guard timing.turn > 0, let waiting = history[k].waitingSince,
            timing.now.timeIntervalSince(waiting) >= timing.minPause
        else { return nil }
        let longest = candidates.indices.filter { j in
            j != k && candidates[j].current > 0 && candidates[j].stage == candidates[k].stage
                && candidates[j].priority <= candidates[k].priority && notes[j] == nil
                && (history[j].runningSince.map { timing.now.timeIntervalSince($0) >= timing.turn } ?? false)
        }.sorted { (history[$0].runningSince ?? timing.now) < (history[$1].runningSince ?? timing.now) }
        for j in longest {
            let current = candidates[j].current
            candidates[j].current = 0
            if tryAdmit(k, at: candidates[k].startMinimum, under: include) == nil { return j }
            candidates[j].current = current
        }
        return nil
    }

    /// A three-phase car on a switching charger may still fit on one phase.
    private mutating func switchToOnePhase(
        _ k: Int, _ history: CarHistory, at current: Double, under include: (Limit) -> Bool
    ) -> Bool {
        guard history.maySwitchPhases, candidates[k].phases == 3 else { return false }
        let (phases, mask) = (candidates[k].phases, candidates[k].mask)
        candidates[k].phases = 1
        candidates[k].mask = candidates[k].onePhaseMask
        if tryAdmit(k, at: current, under: include) == nil { return true }
        candidates[k].phases = phases
        candidates[k].mask = mask
        return false
    }
}
