import Foundation
import PropertyBased
import Testing

@testable import Control

/// Random trees, limits, loads and cars; the invariants are checked on the
/// simulated physics after every cycle, not on the solver's own bookkeeping.
@Suite struct PropertyTests {
    static let seeds = Gen.int(in: 0...Int.max)
    static let steps = 6

    /// Runs a random site for a few cycles, checking every invariant after each one.
    /// Returns the decisions, for the determinism check.
    @discardableResult
    static func simulate(seed: Int, check: Bool = true) throws -> [Decision] {
        var rng = SeededRandom(seed: UInt64(seed))
        let model = try SiteModel(config: RandomSite.config(&rng))
        var sim = SiteSimulator(model)
        var decisions: [Decision] = []
        var runningSince: [String: Date] = [:]
        for _ in 0..<steps {
            RandomSite.perturb(&sim, &rng)
            let stateBefore = sim.state
            let decision = sim.step(rng.pick([1, 1, 5, 30, 200]))
            decisions.append(decision)
            guard check else { continue }
            var failures: [String] = []
            checkLimits(sim, decision, &failures)
            checkSetpoints(sim.model, decision, &failures)
            checkBudget(sim, decision, &failures)
            checkSolar(sim, decision, &failures)
            checkMinimumRun(sim, decision, &runningSince, &failures)
            // Same input, same output.
            let again = ControlCycle.run(state: stateBefore, model: model, measurements: sim.measurements, now: sim.now)
            if again.decision != decision || again.state != sim.state { failures.append("not deterministic") }
            #expect(failures.isEmpty, "seed \(seed): \(failures.joined(separator: "; ")) — \(decision.setpoints.map(\.summary))")
        }
        return decisions
    }

    /// Charge points control does not steer this cycle (safe currents).
    static func isFallback(_ sp: Setpoint) -> Bool {
        switch sp.reason {
        case .chargerOffline, .chargerOfflineNoRoom, .meterStale: true
        default: false
        }
    }

    /// What a charge point on fallback is budgeted as drawing, per grid phase: an
    /// offline charger always (its car is unknown), a stale subtree's point when a car is plugged in.
    static func fallbackBudget(_ cp: SiteModel.ChargePoint, _ sp: Setpoint, plugged: Bool) -> PhaseCurrents {
        switch sp.reason {
        case .chargerOffline: cp.rotation.gridMask(phases: sp.phases) * sp.current
        case .chargerOfflineNoRoom: cp.rotation.gridMask(phases: sp.phases) * cp.safeCurrent
        case .meterStale: plugged ? cp.rotation.gridMask(phases: sp.phases) * sp.current : .zero
        default: .zero
        }
    }

    /// No panel phase exceeds its limit once the cars follow their setpoints, unless
    /// the load nobody steers is already above it; then no steered car draws on that phase.
    static func checkLimits(_ sim: SiteSimulator, _ d: Decision, _ failures: inout [String]) {
        let model = sim.model
        let actual = sim.panelCurrents()
        func measuredNow(_ n: Int) -> Bool {
            switch model.nodes[n].meter {
            case .virtual: true
            case .device(let device): sim.measurements.meters[device]?.time == sim.now
            }
        }
        for (n, node) in model.nodes.enumerated() {
            var chain: Int? = n
            var allMeasured = true
            while let i = chain {
                allMeasured = allMeasured && measuredNow(i)
                chain = model.nodes[i].parent
            }
            guard allMeasured else { continue }
            var unsteered = PhaseCurrents.zero
            var steered = PhaseCurrents.zero
            for m in model.nodes.indices where isInSubtree(m, of: n, model) {
                unsteered += sim.household[model.nodes[m].id] ?? .zero
            }
            // What the charge points on safe currents really draw now is load nobody steers.
            for i in node.chargePoints {
                let cp = model.chargePoints[i]
                let grid = cp.rotation.toGrid(sim.draws[cp.id] ?? .zero)
                if isFallback(d.setpoints[i]) { unsteered += grid } else { steered += grid }
            }
            for p in 0..<3 {
                if unsteered[p] <= node.limit[p] {
                    if actual[n][p] > node.limit[p] + 1e-6 {
                        failures.append("node \(node.id) L\(p + 1): \(actual[n][p]) > \(node.limit[p])")
                    }
                } else if steered[p] != 0 {
                    failures.append("node \(node.id) L\(p + 1) is overloaded by unsteered load, yet a car draws")
                }
            }
        }
    }

    static func isInSubtree(_ m: Int, of n: Int, _ model: SiteModel) -> Bool {
        var chain: Int? = m
        while let i = chain {
            if i == n { return true }
            chain = model.nodes[i].parent
        }
        return false
    }

    /// A steered car gets 0 or a current between its minimum and its maximum.
    static func checkSetpoints(_ model: SiteModel, _ d: Decision, _ failures: inout [String]) {
        if d.setpoints.map(\.chargePoint) != model.chargePoints.map(\.id) { failures.append("setpoints out of order") }
        for (cp, sp) in zip(model.chargePoints, d.setpoints) {
            switch sp.reason {
            case .chargerOffline, .meterStale:
                if sp.current != cp.safeCurrent { failures.append("\(sp.summary): not the safe current") }
            case .chargerOfflineNoRoom:
                if sp.current != 0 { failures.append("\(sp.summary): asked for more than 0 with no room") }
            default:
                if !(sp.current == 0 || (sp.current >= cp.minCurrent - 1e-9 && sp.current <= cp.maxCurrent + 1e-9)) {
                    failures.append("\(sp.summary): outside \(cp.minCurrent)…\(cp.maxCurrent) A")
                }
            }
        }
    }

    /// The steered cars together never take more than the quarter-hour budget leaves,
    /// except cars held at their minimum (minimum run time, or stopping tolerance).
    static func checkBudget(_ sim: SiteSimulator, _ d: Decision, _ failures: inout [String]) {
        let model = sim.model
        guard d.budget.meterFresh else { return }
        var fixed = 0.0
        var steered = 0.0
        var minimums = 0.0
        for (cp, sp) in zip(model.chargePoints, d.setpoints) {
            if isFallback(sp) {
                fixed += (fallbackBudget(cp, sp, plugged: sim.cars[cp.id] != nil) * model.voltage).sum()
            } else if sp.current > 0 {
                steered += sp.power
                minimums += cp.minCurrent * Double(sp.phases) * model.voltage
            }
        }
        let available = d.budget.allowedRestW - d.budget.householdW - fixed
        // A decrease smaller than the hysteresis is not worth a write: economic limits may be
        // exceeded by that much per running car (the quarter-hour average absorbs it).
        let slack = heldSlack(sim, d)
        if steered > max(available, minimums) + slack + 1e-6 { failures.append("cars take \(steered) W of \(available) W") }
    }

    /// What running cars may hold above an economic limit, W: a decrease below the
    /// hysteresis is not worth a write. Economic limits are steered on settled views only:
    /// while a car still follows its last setpoint (within the EV response time), the
    /// decision holds (`.settling`) and the budget is not judged (breakers do not wait).
    static func heldSlack(_ sim: SiteSimulator, _ d: Decision) -> Double {
        if d.setpoints.contains(where: { $0.reason == .settling }) { return .greatestFiniteMagnitude }
        return zip(sim.model.chargePoints, d.setpoints).reduce(0) { sum, pair in
            guard pair.1.current > 0, !isFallback(pair.1) else { return sum }
            return sum + sim.model.timing.hysteresisA * Double(pair.1.phases) * sim.model.voltage
        }
    }

    /// Solar-only cars together take no more than the export the others leave,
    /// except cars held at their minimum for their run time.
    static func checkSolar(_ sim: SiteSimulator, _ d: Decision, _ failures: inout [String]) {
        guard d.budget.meterFresh else { return }
        let model = sim.model
        var others = d.budget.householdEstimateW
        var solar = 0.0
        var solarMinimums = 0.0
        for (cp, sp) in zip(model.chargePoints, d.setpoints) {
            if isFallback(sp) {
                others += (fallbackBudget(cp, sp, plugged: sim.cars[cp.id] != nil) * model.voltage).sum()
            } else if (sim.state.settings.modes[cp.id] ?? cp.mode) == .solar {
                solar += sp.power
                if sp.current > 0 { solarMinimums += cp.minCurrent * Double(sp.phases) * model.voltage }
            } else {
                others += sp.power
            }
        }
        if solar > max(-others, solarMinimums) + heldSlack(sim, d) + 1e-6 {
            failures.append("solar cars take \(solar) W of \(-others) W export")
        }
    }

    /// A car is never stopped for the budget or the surplus before its minimum run time.
    static func checkMinimumRun(
        _ sim: SiteSimulator, _ d: Decision, _ runningSince: inout [String: Date], _ failures: inout [String]
    ) {
        for sp in d.setpoints {
            if sp.current > 0 {
                if runningSince[sp.chargePoint] == nil { runningSince[sp.chargePoint] = sim.now }
                continue
            }
            if case .stopped(let limit) = sp.reason, !limit.protectsInstallation, let since = runningSince[sp.chargePoint],
                sim.now.timeIntervalSince(since) < sim.model.timing.minRunSeconds
            {
                failures.append("\(sp.chargePoint) stopped for \(limit) after \(sim.now.timeIntervalSince(since)) s")
            }
            runningSince[sp.chargePoint] = nil
        }
    }

    /// Random sites that once broke an invariant, kept so they stay fixed: a solar car
    /// given export that a step handed out after rounding (3087…) or a 1p→3p switch
    /// (1562…) of another car then took; a solar car held at its minimum run time
    /// given more from steps freed by rounding (4218…); a running car kept at its minimum on an
    /// unsettled view instead of stopped (3660…, an experiment reverted); a car new on a
    /// phase through the cautious share (started, or switched to one phase) beside cars held
    /// there at their old setpoints (1676…); an overload the lower bound no longer saw for sure
    /// once a car lowered while ramping kept its old limit there too (5468…, 2382…: the guard
    /// now serves the room counted for raises only).
    @Test(arguments: [5_468_628_575_677_020_785, 238_247_635_676_399_333, 5_223_148_982_450_934_124, 3_660_726_331_177_934_542, 1_676_818_262_201_710_555, 3_087_065_648_563_285_309, 1_562_308_165_284_843_645, 4_218_446_327_057_414_151, 2_596_386_780_263_688_777])
    func formerCounterexamplesHold(seed: Int) throws {
        _ = try Self.simulate(seed: seed)
    }

    /// 1500 random sites. The test command runs the same 1500 every time (a run that passes
    /// or fails the same way on every clone, as the fuzz smoke does); `PHASOR_PROPERTY_SEED`
    /// picks another series (`random`: a new one, printed on failure) to explore.
    @Test func limitsMinimumsAndBudgetHoldOnRandomSites() throws {
        let setting = ProcessInfo.processInfo.environment["PHASOR_PROPERTY_SEED"]
        let base = setting == "random" ? UInt64.random(in: 0...UInt64.max) : setting.flatMap { UInt64($0) } ?? 2026
        var series = SeededRandom(seed: base)
        for _ in 0..<1500 {
            let seed = Int(series.next() >> 1)
            do { _ = try Self.simulate(seed: seed) } catch {
                Issue.record("seed \(seed) (series \(base)): \(error)")
            }
        }
    }

    @Test func aWholeRandomHistoryIsReproducible() async {
        await propertyCheck(count: 150, input: Self.seeds) { seed in
            let first = try Self.simulate(seed: seed, check: false)
            let second = try Self.simulate(seed: seed, check: false)
            #expect(first == second)
        }
    }

    /// Cars that share one panel and nothing else get equal currents unless their
    /// own maximum holds them lower: surplus to the lowest, shortage from the highest.
    @Test func carsUnderOneBreakerShareEvenly() async {
        let cars = Gen.int(in: 1...12)
        let limits = Gen.int(in: 16...125)
        let maxima = Gen.int(in: 6...32).array(of: 12)
        await propertyCheck(count: 400, input: cars, limits, maxima) { count, limit, maxima in
            let cps = (0..<count).map { Sites.chargePoint("cp\($0)", max: Double(maxima[$0])) }
            var sim = SiteSimulator(try Sites.single(limit: Double(limit), chargePoints: cps))
            for cp in cps { sim.cars[cp.id] = SimCar() }
            let d = sim.run(seconds: 2).last!
            let running = d.setpoints.filter { $0.current > 0 }
            // Whoever is below its maximum sits at the common level (within the 0.1 A steps).
            let capped = running.filter { $0.reason != .atMaximum }
            if let low = capped.map(\.current).min(), let high = capped.map(\.current).max() {
                #expect(high - low <= 0.1 + 1e-9)
                // …and no car at its maximum sits above that level.
                #expect(running.filter { $0.reason == .atMaximum }.allSatisfy { $0.current <= high + 1e-9 })
                // The breaker is used up to the last step.
                #expect(d.nodes[0].expected.max() > Double(limit) - 0.1 - 1e-9)
            }
            #expect(d.nodes[0].expected.max() <= Double(limit) + 1e-9)
        }
    }
}
