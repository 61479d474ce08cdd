import Foundation

/// What one steered charge point gets this cycle.
struct Choice {
    var current: Double
    var phases: Int
    var reason: SetpointReason
    var switchedPhases: Bool
}

/// Turns the cycle's allocations into setpoint changes that hold still on a steady
/// site, lower at once when a limit is exceeded, and raise only into room that is
/// measured free (see `ControlCycle`).
struct Sequencing {
    let model: SiteModel
    let sessions: [ChargePointSession]
    let loads: SiteLoads
    let now: Date
    /// Per node: the house load increases are decided on, A per grid phase, and W.
    let raiseBase: [PhaseCurrents]
    let raiseBasePower: [Double]

    private static let tolerance = 1e-6
    /// The fewest settled views per meter the raise view is taken over (`recentViews`).
    static let minimumViews = 3

    /// Remembers the settled views of the last `viewWindowSeconds` per real meter and
    /// returns, per node, the highest house load among them and the cautious view now.
    /// A car's own drop seen by the meter before its charger reports it makes one view
    /// look lighter than the house is; the older views of the window still show the truth.
    static func recentViews(_ stored: [String: [HouseView]], loads: SiteLoads, model: SiteModel)
        -> (views: [String: [HouseView]], base: [PhaseCurrents], basePower: [Double])
    {
        var views: [String: [HouseView]] = [:]
        var base = loads.base
        var basePower = loads.basePower
        let window = model.timing.viewWindowSeconds
        for (n, node) in model.nodes.enumerated() {
            guard case .device = node.meter, loads.nodeFresh[n], let time = loads.meterTime[n] else { continue }
            // The window, and at least the last `minimumViews` views of the last four windows: a
            // meter read every 10 s gives one or two views in 15 s, whose highest says little of
            // the house's noise (a raise came 200 s into a steady site when two quiet readings
            // in a row let the held view down, seed 20033).
            let recent = (stored[node.id] ?? []).filter { $0.time <= time && time.timeIntervalSince($0.time) <= 4 * window }
            var kept = recent.enumerated().filter { k, view in
                time.timeIntervalSince(view.time) <= window || k >= recent.count - minimumViews
            }.map(\.element)
            if loads.settled[n], kept.last.map({ $0.time < time }) ?? true {
                kept.append(HouseView(time: time, currents: loads.base[n], power: loads.basePower[n]))
            }
            // The settled views only: an unsettled one carries a car's own ramp seen by the meter
            // before its report, and as a floor it raised the held view by that phantom, which
            // then lowered the car that ramped and raised it again when the view expired (a
            // 14 ↔ 15 A cycle every 5 s on a steady site, acceptance seed 30640). Raises wait
            // for a settled view anyway; without any, the cautious view as it reads.
            if let first = kept.first {
                base[n] = first.currents
                basePower[n] = first.power
            }
            for view in kept {
                base[n] = pointwiseMax(base[n], view.currents)
                basePower[n] = max(basePower[n], view.power)
            }
            views[node.id] = kept
        }
        return (views, base, basePower)
    }

    /// Per node, the house load raises, starts and re-sharing are decided on: the highest of the
    /// recent views (`base`), held when they fall by less than `hysteresis` A on a phase (and
    /// its power by less than that at the site voltage on three phases). The house's own noise
    /// lets the highest of a window drift down and up by tenths of an ampere; measured against
    /// it, a share hovering near a step crossed the hysteresis now and then and was raised one
    /// step at a time on a steady site (acceptance seed 10027), and cars raised into a lull were
    /// lowered again by the next peak over the limit (seeds 10029, 10049). A rise is taken at
    /// once, a fall once it reaches the hysteresis.
    static func held(
        _ stored: [String: HouseView], base: [PhaseCurrents], basePower: [Double], loads: SiteLoads, model: SiteModel,
        now: Date
    ) -> (views: [String: HouseView], base: [PhaseCurrents], basePower: [Double]) {
        var views: [String: HouseView] = [:]
        var heldBase = base
        var heldPower = basePower
        let fall = model.timing.hysteresisA
        for (n, node) in model.nodes.enumerated() {
            guard case .device = node.meter, loads.nodeFresh[n] else { continue }
            var view = HouseView(time: now, currents: base[n], power: basePower[n])
            if let old = stored[node.id] {
                for p in 0..<3 where base[n][p] < old.currents[p] && old.currents[p] - base[n][p] < fall {
                    view.currents[p] = old.currents[p]
                }
                if basePower[n] < old.power && old.power - basePower[n] < fall * model.voltage * 3 {
                    view.power = old.power
                }
            }
            views[node.id] = view
            heldBase[n] = view.currents
            heldPower[n] = view.power
        }
        return (views, heldBase, heldPower)
    }

    /// Every real meter above the charge point gave a settled view.
    private func settled(_ i: Int) -> Bool { model.chargePoints[i].ancestors.allSatisfy { loads.settled[$0] } }

    /// Per node, the limits the previous setpoints would exceed with the house load `base`:
    /// 1 on each phase over its breaker limit, all three when the node's power limit is.
    private func overloaded(base: [PhaseCurrents], basePower: [Double], previous: [Double], phases: [Int])
        -> [PhaseCurrents]
    {
        model.nodes.enumerated().map { n, node in
            guard loads.nodeFresh[n] else { return .zero }
            var load = base[n]
            for i in node.chargePoints {
                if loads.fallback[i] != nil {
                    load += loads.fixed[i]
                } else {
                    load += model.chargePoints[i].rotation.gridMask(phases: phases[i]) * previous[i]
                }
            }
            if let powerLimit = node.powerLimitW, basePower[n] + (load - base[n]).sum() * model.voltage > powerLimit {
                return PhaseCurrents(repeating: 1)
            }
            var over = PhaseCurrents.zero
            for p in 0..<3 where load[p] > node.limit[p] + Self.tolerance { over[p] = 1 }
            return over
        }
    }

    /// A limit over which a car on `mask` adds load.
    private func loads(_ over: [PhaseCurrents], chargePoint i: Int, mask: PhaseCurrents) -> Bool {
        model.chargePoints[i].ancestors.contains { (over[$0] * mask).sum() > 0 }
    }

    /// `safe` solves the cautious view; it is only called (once) when a limit is exceeded,
    /// so a steady cycle solves one allocation, not two.
    mutating func choose(target: Solution, safe solveSafe: () -> Solution) -> [Choice?] {
        let timing = model.timing
        var chosen = [Choice?](repeating: nil, count: model.chargePoints.count)
        // What each car had, on the phases it had them.
        var previous = [Double](repeating: 0, count: model.chargePoints.count)
        var previousPhases = [Int](repeating: 0, count: model.chargePoints.count)
        for i in model.chargePoints.indices {
            previous[i] = sessions[i].setpoint
            previousPhases[i] = sessions[i].detectedPhases ?? sessions[i].phases
        }
        let certain = overloaded(
            base: loads.baseLow, basePower: loads.basePowerLow, previous: previous, phases: previousPhases)
        let probable = overloaded(base: loads.base, basePower: loads.basePower, previous: previous, phases: previousPhases)
        // A limit is exceeded: for sure when even the lower bound exceeds it; on the cautious
        // view only once it is settled — while a car ramps up, the meter sees it before its
        // report does, and the house only looks heavier.
        let exceeded = model.nodes.indices.map { n in
            pointwiseMax(certain[n], loads.settled[n] ? probable[n] : .zero)
        }
        var safeSolution: Solution?
        func safe() -> Solution {
            if let safeSolution { return safeSolution }
            let solved = solveSafe()
            safeSolution = solved
            return solved
        }

        // Per node, the phases a car starting in the plan (or switching phases) will load:
        // the cars sharing them are lowered to their share without the hysteresis, or the
        // room the plan made for the start would never be freed.
        var starting = [PhaseCurrents](repeating: .zero, count: model.nodes.count)
        for c in target.allocation.candidates where c.current > 0 {
            let i = c.chargePoint
            guard previous[i] == 0 || c.phases != previousPhases[i] else { continue }
            for n in model.chargePoints[i].ancestors { starting[n] = pointwiseMax(starting[n], c.mask) }
        }

        var raises: [(rank: Int, i: Int, k: Int)] = []
        var safeRaises: [(rank: Int, i: Int, k: Int)] = []
        for (k, c) in target.allocation.candidates.enumerated() {
            let i = c.chargePoint
            let cp = model.chargePoints[i]
            let samePhases = c.phases == previousPhases[i]
            let prev = samePhases ? previous[i] : 0
            let hold = Choice(current: prev, phases: previousPhases[i], reason: .holding, switchedPhases: false)

            // A limit this car loads is exceeded: lower now, to the cautious view's share.
            let mask = pointwiseMax(cp.rotation.gridMask(phases: previousPhases[i]), c.mask)
            if loads(exceeded, chargePoint: i, mask: mask) {
                // Both allocations are built from the same candidates, in the same order.
                let safe = safe()
                let s = k
                let safeCandidate = safe.allocation.candidates[s]
                let current = safeCandidate.current
                let had = cp.rotation.gridMask(phases: previousPhases[i]) * prev
                let gets = cp.rotation.gridMask(phases: safeCandidate.phases) * current
                if safeCandidate.phases == previousPhases[i] && current >= prev - Self.tolerance {
                    chosen[i] = Choice(current: prev, phases: previousPhases[i], reason: safe.reason(s), switchedPhases: false)
                } else if (0..<3).contains(where: { gets[$0] > had[$0] + Self.tolerance }) {
                    // The safe share starts the car, or moves it onto one phase with more current
                    // there than it had: that phase's room is measured like any raise's (below),
                    // with the cars held there counted at what they may still draw.
                    safeRaises.append((c.rank, i, s))
                } else {
                    chosen[i] = Choice(
                        current: current, phases: safeCandidate.phases, reason: safe.reason(s),
                        switchedPhases: safeCandidate.phases != previousPhases[i])
                }
                continue
            }
            let wanted = c.current
            let reason = target.reason(k)
            let switched = !samePhases
            if switched {
                // A 1p/3p switch restarts the car: handled as a start on the new phase count.
                raises.append((c.rank, i, k))
                continue
            }
            guard settled(i) else {
                chosen[i] = prev == wanted ? Choice(current: prev, phases: c.phases, reason: reason, switchedPhases: false)
                    : Choice(current: prev, phases: previousPhases[i], reason: .settling, switchedPhases: false)
                continue
            }
            if wanted < prev - Self.tolerance {
                // A planned decrease (re-sharing, the budget, a stop): when the exact share is below
                // the setpoint by the hysteresis (not merely its rounding: a share hovering at a step
                // would flip every time), when the car's maximum went down (a manual current), or
                // when the room is for a car starting beside it.
                // Under the quarter-hour budget a step is enough: what a car keeps above its share
                // there is billed (holding a whole hysteresis put a month 30 W over the slider).
                if wanted == 0 || prev - target.exact[k] >= timing.hysteresisA - Self.tolerance
                    || wanted >= c.maximum - Self.tolerance || loads(starting, chargePoint: i, mask: c.mask)
                    || (c.boundBy == .budget && prev - target.exact[k] >= cp.currentStep - Self.tolerance)
                {
                    chosen[i] = Choice(current: wanted, phases: c.phases, reason: reason, switchedPhases: false)
                } else {
                    chosen[i] = hold
                }
            } else if wanted > prev + Self.tolerance {
                if prev > 0 && wanted - prev < timing.hysteresisA - Self.tolerance {
                    chosen[i] = hold
                } else if let last = sessions[i].lastIncrease, prev > 0,
                    now.timeIntervalSince(last) < timing.increaseIntervalSeconds
                {
                    chosen[i] = Choice(
                        current: prev, phases: previousPhases[i],
                        reason: .spacingIncreases(until: last.addingTimeInterval(timing.increaseIntervalSeconds)),
                        switchedPhases: false)
                } else {
                    raises.append((c.rank, i, k))
                }
            } else {
                chosen[i] = Choice(current: prev, phases: c.phases, reason: reason, switchedPhases: false)
            }
        }

        // Break before make: raise in rank order, each into the room left with every other
        // car counted at the most it may still draw (a lowered car until it is seen lower).
        var counted = [PhaseCurrents](repeating: .zero, count: model.chargePoints.count)
        for i in model.chargePoints.indices {
            var decided = PhaseCurrents.zero
            if let choice = chosen[i] {
                decided = model.chargePoints[i].rotation.gridMask(phases: choice.phases) * choice.current
            }
            counted[i] = pointwiseMax(loads.allowance[i], decided)
        }
        // A car the safe share moves onto more current on some phase (a start, a 3p→1p switch)
        // first: it was lowered off an exceeded limit and gets at most the safe share.
        for (_, i, k) in safeRaises.sorted(by: { $0.rank < $1.rank }) {
            let safe = safe()
            let c = safe.allocation.candidates[k]
            let cp = model.chargePoints[i]
            let room = min(
                roomFor(i, mask: c.mask, phases: c.phases, counted: counted),
                budgetRoom(i, phases: c.phases, in: safe.allocation, chosen: chosen, previous: previous, previousPhases: previousPhases))
            let fits = ((room + Self.tolerance) / cp.currentStep).rounded(.down) * cp.currentStep
            // A start needs its start minimum, as any start does; a running car its minimum.
            let needed = previous[i] == 0 ? c.startMinimum : c.minimum
            let current = fits >= needed - Self.tolerance ? min(c.current, fits) : 0
            let phases = current > 0 ? c.phases : previousPhases[i]
            chosen[i] = Choice(
                current: current, phases: phases, reason: current > 0 ? safe.reason(k) : .waitingForOthers,
                switchedPhases: current > 0 && c.phases != previousPhases[i])
            counted[i] = current > 0 ? pointwiseMax(loads.allowance[i], cp.rotation.gridMask(phases: phases) * current) : counted[i]
        }
        for (_, i, k) in raises.sorted(by: { $0.rank < $1.rank }) {
            let c = target.allocation.candidates[k]
            let cp = model.chargePoints[i]
            let prev = c.phases == previousPhases[i] ? previous[i] : 0
            let room = min(
                roomFor(i, mask: c.mask, phases: c.phases, counted: counted),
                budgetRoom(i, phases: c.phases, in: target.allocation, chosen: chosen, previous: previous, previousPhases: previousPhases))
            let step = cp.currentStep
            let fits = ((room + Self.tolerance) / step).rounded(.down) * step
            var current = min(c.current, fits)
            var reason = target.reason(k)
            if prev == 0 {
                if current < c.startMinimum - Self.tolerance && current < c.current - Self.tolerance {
                    current = 0
                    reason = .waitingForOthers
                } else {
                    current = max(current, min(c.minimum, c.current))
                }
            } else if current < prev + timing.hysteresisA - Self.tolerance && current < c.current - Self.tolerance {
                current = prev
                reason = .waitingForOthers
            } else if current < prev {
                current = prev
            }
            let phases = current == 0 && prev == 0 ? previousPhases[i] : c.phases
            chosen[i] = Choice(
                current: current, phases: phases, reason: reason,
                switchedPhases: current > 0 && c.phases != previousPhases[i])
            counted[i] = pointwiseMax(counted[i], cp.rotation.gridMask(phases: phases) * current)
        }
        return chosen
    }

    /// The most charge point `i` may be given (A per phase) under the quarter-hour budget the
    /// plan was made for, with every other car at what this cycle decided for it (or its old
    /// setpoint, if not decided yet): cars the cycle holds above their share (a decrease below
    /// the hysteresis) or lowers only to a cautious share still take their part of the budget.
    private func budgetRoom(
        _ i: Int, phases: Int, in allocation: Allocation, chosen: [Choice?], previous: [Double], previousPhases: [Int]
    ) -> Double {
        guard let budget = allocation.constraints.first(where: { $0.limit == .budget }) else { return .greatestFiniteMagnitude }
        var others = 0.0
        for c in allocation.candidates where c.chargePoint != i {
            let j = c.chargePoint
            let (current, phases) = chosen[j].map { ($0.current, $0.phases) } ?? (previous[j], previousPhases[j])
            others += current * Double(phases) * model.voltage
        }
        return max(0, budget.capacity - others) / (Double(phases) * model.voltage)
    }

    /// The most charge point `i` may be given (A per phase) with every other car of its
    /// panels counted at `counted`, under the breaker (minus the margin) and power limits.
    private func roomFor(_ i: Int, mask: PhaseCurrents, phases: Int, counted: [PhaseCurrents]) -> Double {
        var room = Double.greatestFiniteMagnitude
        for n in model.chargePoints[i].ancestors where loads.nodeFresh[n] {
            let node = model.nodes[n]
            var others = PhaseCurrents.zero
            for j in node.chargePoints where j != i { others += counted[j] }
            let used = raiseBase[n] + others
            for p in 0..<3 where mask[p] > 0 {
                room = min(room, (node.limit[p] - model.timing.breakerMarginA - used[p]) / mask[p])
            }
            if let powerLimit = node.powerLimitW {
                let usedW = raiseBasePower[n] + others.sum() * model.voltage
                room = min(room, (powerLimit - usedW) / (Double(phases) * model.voltage))
            }
        }
        return max(0, room)
    }
}
