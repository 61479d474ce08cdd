import Control
import ControlSimulation
import Foundation
import Plant

/// A random site with random timing and a random history: up to 3 panel levels (charge
/// points are the 4th) with parallel panels, real and virtual meters, 1–20 points,
/// meters every 1–10 s at random instants, chargers reporting every 1–2 s at their own
/// offsets, write latencies up to 0.5 s, cars that lower within IEC 61851-1's 5 s and
/// ramp up over seconds. Events (plugs, unplugs, replugs, full batteries, house steps)
/// happen in the first `eventsEnd` seconds; after that the site is quiet.
struct RandomPlantSite {
    var model: SiteModel
    var loop: ClosedLoop
    var events: [ScheduledEvent]
    /// Indices of the plant loads, one per real-metered panel.
    var eventsEnd: TimeInterval
    var noise: Double
    /// Longest meter period + delay, write latency and car lower delay used.
    var slowestMeter: TimeInterval
    var slowestWrite: TimeInterval
    var slowestLower: TimeInterval

    static let eventsEnd: TimeInterval = 90
    /// From unplugging a car to plugging one in again.
    static let replugSeconds: TimeInterval = 10

    init(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        var cpBudget = rng.int(1...20)
        var next = 0
        func panel(level: Int) -> PanelConfig {
            next += 1
            let id = "n\(next)"
            var children: [PanelConfig] = []
            if level < 3 { for _ in 0..<rng.int(0...2) { children.append(panel(level: level + 1)) } }
            var cps: [ChargePointConfig] = []
            let here = cpBudget > 0 ? rng.int(0...min(cpBudget, 5)) : 0
            cpBudget -= here
            for _ in 0..<here { cps.append(chargePoint()) }
            let virtual = level > 1 && children.allSatisfy { $0.meter == .virtual } && !(children.isEmpty && cps.isEmpty)
                && rng.chance(0.4)
            let limit = rng.chance(0.3)
                ? PhaseLimit(rng.double(16...63).rounded(), rng.double(16...63).rounded(), rng.double(16...63).rounded())
                : PhaseLimit(rng.pick([16, 20, 25, 32, 40, 50, 63]))
            return PanelConfig(
                id: id, currentLimit: limit, meter: virtual ? .virtual : .device("meter_\(id)"), panels: children,
                chargePoints: cps)
        }
        func chargePoint() -> ChargePointConfig {
            next += 1
            let phases = rng.pick([1, 3, 3, 3])
            return ChargePointConfig(
                id: "cp\(next)", rotation: rng.pick(PhaseRotation.allCases), phases: phases, minCurrent: 6,
                maxCurrent: rng.pick([16.0, 16, 32]), safeCurrent: 6, currentStep: rng.pick([0.1, 1]))
        }
        var root = panel(level: 1)
        for _ in 0..<cpBudget { root.chargePoints.append(chargePoint()) }
        let timing = TimingConfig(
            minRunSeconds: rng.pick([20, 60, 300]), minPauseSeconds: rng.pick([10, 20, 60]), hysteresisA: 1)
        model = try SiteModel(
            config: SiteConfig(
                preset: rng.pick([.residential, .hub]), budget: BudgetConfig(sliderKW: 1000, marginKW: 0), timing: timing,
                site: root))

        // Timing of the parts.
        var config = PlantConfig(model: model)
        for i in config.meters.indices {
            let period = rng.pick([1.0, 1, 1, 2, 5, 10])
            config.meters[i].period = period
            config.meters[i].offset = rng.double(0...period * 0.99)
            config.meters[i].delay = rng.double(0...0.2)
        }
        for i in config.chargers.indices {
            let period = rng.pick([1.0, 1, 1, 2])
            config.chargers[i].reportPeriod = period
            config.chargers[i].reportOffset = rng.double(0...period * 0.99)
            config.chargers[i].reportDelay = rng.double(0...0.2)
            config.chargers[i].writeLatency = rng.double(0.02...0.5)
        }
        noise = rng.pick([0.0, 0.0, 0.3])
        for (n, node) in model.nodes.enumerated() where node.meter != .virtual {
            let level = node.parent == nil ? rng.double(-10...15) : rng.double(0...8)
            config.loads.append(
                LoadSpec(
                    panel: n, base: PhaseAmperes(repeating: level) + PhaseAmperes(rng.double(0...3), rng.double(0...3), 0),
                    noise: noise, noiseHold: 1))
        }
        slowestMeter = config.meters.map { $0.period + $0.delay }.max() ?? 0
        slowestWrite = config.chargers.map(\.writeLatency).max() ?? 0
        var cars: [CarSpec] = []
        for cp in model.chargePoints {
            cars.append(
                CarSpec(
                    phases: min(cp.phases, rng.pick([1, 3, 3])), maxCurrent: rng.pick([16.0, 32]),
                    lowerDelay: rng.double(0.3...CarSpec.maxLowerDelay), riseDelay: rng.double(0.3...3),
                    rampRate: rng.double(2...10)))
        }
        slowestLower = cars.map(\.lowerDelay).max() ?? 0
        config.explainWindow = slowestMeter + 1 + slowestWrite + slowestLower
        let plant = Plant(config: config, start: t0, seed: rng.next())
        loop = ClosedLoop(model: model, plant: plant)
        // Control starts once every meter has sent (a running site; a cold start without
        // readings falls back to safe currents, which is another question).
        loop.startupDelay = slowestMeter + 0.5
        eventsEnd = Self.eventsEnd

        // The history: most cars plugged in early, then random events.
        var events: [ScheduledEvent] = []
        for (i, car) in cars.enumerated() where rng.chance(0.8) {
            events.append(ScheduledEvent(at: t0 + rng.double(0...20)) { $0.plug(charger: i, car: car) })
        }
        let loadIndices = Array(config.loads.indices)
        for _ in 0..<rng.int(0...8) {
            let at = t0 + rng.double(5...Self.eventsEnd)
            let i = rng.int(0...(cars.count - 1))
            switch rng.int(0...4) {
            case 0: events.append(ScheduledEvent(at: at) { $0.unplug(charger: i) })
            case 1:
                // A (re)plug: a car there leaves first, and a person takes seconds to plug in
                // the next one, so the charger reports the socket empty in between (a swap
                // within one report would be a new session control cannot see).
                events.append(ScheduledEvent(at: at) { $0.unplug(charger: i) })
                events.append(ScheduledEvent(at: at + Self.replugSeconds) { [car = cars[i]] in $0.plug(charger: i, car: car) })
            case 2: events.append(ScheduledEvent(at: at) { $0.finishCharging(charger: i) })
            default:
                guard let l = loadIndices.randomElement(using: &rng) else { continue }
                let base = config.loads[l].base + PhaseAmperes(rng.double(-8...12), rng.double(-8...12), rng.double(-8...12))
                events.append(ScheduledEvent(at: at) { $0.setLoad(l, base: base) })
            }
        }
        self.events = events
    }
}
