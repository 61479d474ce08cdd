import Foundation

@testable import Control

/// A small deterministic generator (SplitMix64), so one seed from the property
/// library reproduces a whole random site and its history.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func double(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

/// A random site: up to 3 panel levels with parallel panels, real and virtual
/// meters, per-phase limits, 1–20 charge points of every kind.
enum RandomSite {
    static func config(_ rng: inout SeededRandom) -> SiteConfig {
        var cpBudget = rng.int(1...20)
        var next = 0
        func panel(level: Int, rng: inout SeededRandom) -> PanelConfig {
            next += 1
            let id = "n\(next)"
            var children: [PanelConfig] = []
            if level < 3 {
                for _ in 0..<rng.int(0...3) { children.append(panel(level: level + 1, rng: &rng)) }
            }
            var cps: [ChargePointConfig] = []
            let here = cpBudget > 0 ? rng.int(0...min(cpBudget, 6)) : 0
            cpBudget -= here
            for _ in 0..<here { cps.append(chargePoint(&rng)) }
            let childrenVirtual = children.allSatisfy { $0.meter == .virtual }
            let virtual = level > 1 && childrenVirtual && !(children.isEmpty && cps.isEmpty) && rng.chance(0.4)
            let limit =
                rng.chance(0.3)
                ? PhaseLimit(rng.double(10...63), rng.double(10...63), rng.double(10...63))
                : PhaseLimit(rng.pick([16, 20, 25, 32, 40, 50, 63]))
            return PanelConfig(
                id: id, currentLimit: limit, powerLimitKW: rng.chance(0.2) ? rng.double(5...40) : nil,
                meter: virtual ? .virtual : .device("meter_\(id)"), meterTimeoutSeconds: rng.pick([10, 30]),
                panels: children, chargePoints: cps)
        }
        func chargePoint(_ rng: inout SeededRandom) -> ChargePointConfig {
            next += 1
            let phases = rng.pick([1, 3, 3, 3, 2])
            let minimum = rng.pick([6.0, 6.0, 5.0, 8.0])
            let maximum = max(minimum, rng.pick([10.0, 16.0, 20.0, 32.0]))
            let mode = rng.pick([ChargeMode.automatic, .automatic, .automatic, .manual, .solar, .off])
            return ChargePointConfig(
                id: "cp\(next)", rotation: rng.pick(PhaseRotation.allCases), phases: phases,
                phaseSwitching: phases == 3 && rng.chance(0.25), minCurrent: minimum, maxCurrent: maximum,
                safeCurrent: rng.pick([0, minimum, 6]), mode: mode,
                manualCurrent: mode == .manual ? rng.double(minimum...maximum) : nil, priority: rng.int(0...2),
                currentStep: rng.pick([0.1, 1]))
        }
        var root = panel(level: 1, rng: &rng)
        if cpBudget > 0 {
            for _ in 0..<cpBudget { root.chargePoints.append(chargePoint(&rng)) }
        }
        return SiteConfig(
            preset: rng.pick([.residential, .hub]),
            budget: BudgetConfig(sliderKW: rng.double(2...30), marginKW: rng.pick([0, 0.2])),
            timing: TimingConfig(
                minRunSeconds: rng.pick([0, 60, 300]), minPauseSeconds: rng.pick([0, 60]),
                hysteresisA: rng.pick([0, 1]), phaseSwitchSeconds: rng.pick([0, 600])),
            site: root)
    }

    /// Random conditions for the next cycle: house loads (PV export at times), cars
    /// plugging in and out (never swapped within one cycle), chargers and meters failing.
    static func perturb(_ sim: inout SiteSimulator, _ rng: inout SeededRandom) {
        // Only panels with a real meter have other loads: that is what makes a virtual meter valid.
        for node in sim.model.nodes where node.meter != .virtual && rng.chance(0.5) {
            let level = node.parent == nil ? rng.double(-25...30) : rng.double(-2...15)
            sim.household[node.id] = PhaseCurrents(
                level + rng.double(-3...3), level + rng.double(-3...3), level + rng.double(-3...3))
        }
        for cp in sim.model.chargePoints where rng.chance(0.3) {
            if sim.cars[cp.id] != nil {
                if rng.chance(0.3) { sim.cars[cp.id] = nil }
            } else if sim.decision?.setpoint(cp.id)?.reason == .noCar || sim.decision == nil {
                sim.cars[cp.id] = SimCar(phases: min(cp.phases, rng.pick([1, 3, 3])), maxCurrent: rng.pick([16, 32]))
            }
        }
        if rng.chance(0.05), let cp = sim.model.chargePoints.randomElement(using: &rng) {
            sim.offlineChargers.insert(cp.device)
        }
        if rng.chance(0.05), let node = sim.model.nodes.randomElement(using: &rng), case .device(let d) = node.meter {
            sim.silentMeters.insert(d)
        }
    }
}
