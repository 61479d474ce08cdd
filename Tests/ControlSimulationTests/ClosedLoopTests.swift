import Control
import ControlSimulation
import Foundation
import Plant
import Testing

/// The harness itself: timing of decisions, what it measures, the fair-share oracle.
@Suite struct ClosedLoopTests {
    func single(limit: Double, points: [ChargePointConfig], hysteresis: Double = 1) throws -> SiteModel {
        try SiteModel(
            config: SiteConfig(
                preset: .hub, budget: BudgetConfig(sliderKW: 1000, marginKW: 0),
                timing: TimingConfig(minRunSeconds: 20, minPauseSeconds: 20, hysteresisA: hysteresis),
                site: PanelConfig(id: "main", currentLimit: PhaseLimit(limit), meter: .device("grid"), chargePoints: points)))
    }

    @Test func controlDecidesOnEveryMainReadingAndOnASecondTimerWithoutOne() throws {
        let model = try single(limit: 32, points: [ChargePointConfig(id: "cp1")])
        var fast = ClosedLoop(model: model, plant: Plant(config: PlantConfig(model: model), start: t0, seed: 1))
        fast.run(seconds: 60)
        // The telegram at +0 s comes before the startup delay: the timer decides at +0.5 s,
        // then every telegram (+1 … +60 s).
        #expect(fast.stats.decisions == 61)
        var config = PlantConfig(model: model)
        config.meters[0].period = 10
        var slow = ClosedLoop(model: model, plant: Plant(config: config, start: t0, seed: 1))
        slow.run(seconds: 60)
        #expect(slow.stats.decisions >= 59 && slow.stats.decisions <= 61, "the timer: \(slow.stats.decisions)")
    }

    @Test func aLoneCarWithRoomToSpareChargesAtItsMaximumAndHoldsStill() throws {
        let model = try single(limit: 63, points: [ChargePointConfig(id: "cp1", maxCurrent: 16)])
        var config = PlantConfig(model: model)
        config.loads = [LoadSpec(panel: 0, base: PhaseAmperes(3, 2, 1))]
        var plant = Plant(config: config, start: t0, seed: 1)
        plant.plug(charger: 0, car: CarSpec(maxCurrent: 16, lowerDelay: 1, riseDelay: 1, rampRate: 8))
        var loop = ClosedLoop(model: model, plant: plant)
        loop.run(seconds: 120)
        #expect(loop.plant.draw(charger: 0) == PhaseAmperes(16, 16, 16))
        #expect(loop.stats.changes(from: t0 + 10).isEmpty)
        #expect(loop.stats.ledger!.totalSecondsOver == 0)
        #expect(abs(loop.stats.roomUsed - 1) < 0.1, "room used \(loop.stats.roomUsed)")
    }

    /// A house step stops the car (its minimum no longer fits); when the step is gone the
    /// car waits out the minimum pause while its minimum fits: the stats book the short
    /// run, the overload after the step, and the wait.
    @Test func statsBookAShortRunTheStepAndTheWaitWhileTheMinimumFits() throws {
        let model = try single(limit: 16, points: [ChargePointConfig(id: "cp1", maxCurrent: 16)])
        var config = PlantConfig(model: model)
        config.loads = [LoadSpec(panel: 0, base: PhaseAmperes(2, 2, 2))]
        config.explainWindow = 1 + 1 + 0.1 + 1
        var plant = Plant(config: config, start: t0, seed: 1)
        plant.plug(charger: 0, car: CarSpec(maxCurrent: 16, lowerDelay: 1, riseDelay: 1, rampRate: 8))
        var loop = ClosedLoop(model: model, plant: plant)
        loop.run(
            seconds: 120,
            events: [
                ScheduledEvent(at: t0 + 30) { $0.setLoad(0, base: PhaseAmperes(12, 2, 2)) },
                ScheduledEvent(at: t0 + 40) { $0.setLoad(0, base: PhaseAmperes(2, 2, 2)) },
            ])
        let stats = loop.stats
        #expect(stats.starts.count == 2 && stats.stops.count == 1)
        let short = stats.shortRuns(under: 60)
        #expect(short.count == 1 && short[0].reason == .stopped(.breaker(node: "main", phase: 1)))
        let ledger = try #require(stats.ledger)
        #expect(ledger.unexplainedSeconds == 0 && ledger.explainedSeconds > 1, "the step overloads until the car stops")
        // Stopped at ~31 s, room again at 40 s; restarted after the 20 s pause (~51 s) once the
        // step has left the increase view (`view_window_seconds` after 40 s).
        let window = model.timing.viewWindowSeconds
        #expect(window > 11, "the wait below is the window's, not the pause's")
        #expect(stats.longestWaitWhileFitting[0] > window - 1 && stats.longestWaitWhileFitting[0] < window + 3,
                "waited \(stats.longestWaitWhileFitting[0]) s")
        #expect(stats.roomUsed < 0.95)
    }

    @Test func aRunIsReproducibleFromItsSeed() throws {
        func run() throws -> (Int, [Double], Double) {
            var site = try RandomPlantSite(seed: 42)
            site.loop.run(until: t0 + 120, events: site.events)
            return (site.loop.stats.changes.count, site.loop.stats.waitedWhileFitting, site.loop.stats.ledger!.totalSecondsOver)
        }
        let a = try run()
        let b = try run()
        #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2)
    }

    /// Random sites on today's control: the harness runs them all, and what control
    /// decides stays within each car's range (the rest is in AcceptanceTests).
    @Test func randomSitesRunClosedLoop() throws {
        for seed in 0..<UInt64(12) {
            var site = try RandomPlantSite(seed: seed)
            site.loop.run(until: t0 + 60, events: site.events)
            let d = try #require(site.loop.decision)
            for (cp, sp) in zip(site.model.chargePoints, d.setpoints) where sp.current > 0 {
                #expect(sp.current >= cp.minCurrent - 1e-9 && sp.current <= max(cp.maxCurrent, cp.safeCurrent) + 1e-9)
            }
            // Control starts once every meter has sent, then decides at least once a second.
            #expect(site.loop.stats.decisions >= 60 - Int(site.loop.startupDelay.rounded(.up)) - 1)
        }
    }

    @Test func theFairShareOracleFillsProgressively() {
        // Two three-phase cars under 32 A with 4 A of house on L1: 14 A each.
        let car = FairShare.Car(chain: [0], mask: PhaseAmperes(1, 1, 1), maximum: 32)
        #expect(FairShare.allocate(cars: [car, car], room: [PhaseAmperes(28, 32, 32)]) == [14, 14])
        // A capped car leaves the rest to the other.
        let small = FairShare.Car(chain: [0], mask: PhaseAmperes(1, 1, 1), maximum: 6)
        #expect(FairShare.allocate(cars: [small, car], room: [PhaseAmperes(28, 32, 32)]) == [6, 22])
        // Parallel panels: a 20 A garage (1) under a 32 A main (0) with a one-phase car on L2 beside a three-phase one.
        let main = FairShare.Car(chain: [0], mask: PhaseAmperes(1, 1, 1), maximum: 16)
        let g3 = FairShare.Car(chain: [1, 0], mask: PhaseAmperes(1, 1, 1), maximum: 16)
        let g1 = FairShare.Car(chain: [1, 0], mask: PhaseAmperes(0, 1, 0), maximum: 16)
        let x = FairShare.allocate(cars: [main, g3, g1], room: [PhaseAmperes(40, 45, 45), PhaseAmperes(20, 20, 20)])
        #expect(x == [16, 10, 10])
        // A panel already over its limit: nothing for the cars below it.
        #expect(FairShare.allocate(cars: [car], room: [PhaseAmperes(-1, 30, 30)]) == [0])
    }
}
