import Control
import ControlSimulation
import Foundation
import Plant
import Testing

@Suite struct ScratchStep {
    @Test func scan() throws {
        guard ProcessInfo.processInfo.environment["SCRATCH"] != nil else { return }
        let model = try SiteModel(config: SiteConfig(
            preset: .residential, budget: BudgetConfig(sliderKW: 1000, marginKW: 0),
            timing: TimingConfig(minRunSeconds: 300, minPauseSeconds: 120, hysteresisA: 1),
            site: PanelConfig(id: "main", currentLimit: PhaseLimit(32), meter: .device("grid"),
                              chargePoints: [ChargePointConfig(id: "a", maxCurrent: 16), ChargePointConfig(id: "b", maxCurrent: 16)])))
        var stopsTotal = 0
        for offset in stride(from: 0.05, to: 1.0, by: 0.1) {
            for latency in [0.05, 0.2, 0.5] {
                var config = PlantConfig(model: model)
                config.loads = [LoadSpec(panel: 0, base: PhaseAmperes(2, 2, 2))]
                for i in config.chargers.indices { config.chargers[i].reportOffset = offset; config.chargers[i].writeLatency = latency }
                var plant = Plant(config: config, start: t0, seed: 1)
                let car = CarSpec(phases: 3, maxCurrent: 16, lowerDelay: 1.5, riseDelay: 1, rampRate: 5)
                plant.plug(charger: 0, car: car)
                plant.plug(charger: 1, car: car)
                var loop = ClosedLoop(model: model, plant: plant)
                loop.startupDelay = 1.1
                loop.run(seconds: 120, events: [ScheduledEvent(at: t0 + 60.3) { $0.setLoad(0, base: PhaseAmperes(17, 2, 2)) }])
                let stops = loop.stats.changes.filter { $0.to == 0 && $0.time > t0 + 60 }
                stopsTotal += stops.count
                if !stops.isEmpty {
                    print("offset \(offset) latency \(latency): stops \(stops.count)")
                    for c in loop.stats.changes where c.time > t0 + 58 && c.time < t0 + 75 {
                        print("   \(c.time.timeIntervalSince(t0)) \(c.point) \(c.from) → \(c.to) \(c.reason.description)")
                    }
                }
            }
        }
        print("stops in all: \(stopsTotal)")
    }
}
