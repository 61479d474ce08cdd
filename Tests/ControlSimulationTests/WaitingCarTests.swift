import Control
import ControlSimulation
import Foundation
import Plant
import Testing

/// Cars whose minimum fits must not wait: three ways they used to (seeds 10018, 10062 and 10030
/// of the random acceptance sites), each on the plant with its timing.
@Suite struct WaitingCarTests {
    func site(limit: PhaseLimit, points: [ChargePointConfig], timing: TimingConfig) throws -> SiteModel {
        try SiteModel(
            config: SiteConfig(
                preset: .hub, budget: BudgetConfig(sliderKW: 1000, marginKW: 0), timing: timing,
                site: PanelConfig(id: "main", currentLimit: limit, meter: .device("grid"), chargePoints: points)))
    }

    let car = CarSpec(phases: 1, maxCurrent: 16, lowerDelay: 2, riseDelay: 1, rampRate: 5)

    /// Two cars share a 20 A panel at 10 A each; a third one's minimum fits once they go
    /// down to 7 A — less than the hysteresis below their shares' change. The plan admits
    /// the third car and lowers the two; the decreases must happen (they are room for a
    /// start, not a re-sharing worth holding back), or the start waits forever.
    @Test func carsAreLoweredForAStartEvenWhenTheirShareDropsLessThanTheHysteresis() throws {
        let points = (1...3).map { ChargePointConfig(id: "cp\($0)", phases: 1, maxCurrent: 16) }
        let model = try site(
            limit: PhaseLimit(20.5 + 0.5), points: points,
            timing: TimingConfig(minRunSeconds: 20, minPauseSeconds: 10, hysteresisA: 4))
        var config = PlantConfig(model: model)
        config.loads = [LoadSpec(panel: 0, base: .zero)]
        var plant = Plant(config: config, start: t0, seed: 1)
        plant.plug(charger: 0, car: car)
        plant.plug(charger: 1, car: car)
        var loop = ClosedLoop(model: model, plant: plant)
        loop.run(seconds: 40, events: [ScheduledEvent(at: t0 + 30) { $0.plug(charger: 2, car: car) }])
        loop.run(seconds: 60)
        let d = try #require(loop.decision)
        #expect(d.setpoints.allSatisfy { $0.current >= 6 }, "\(d.setpoints.map(\.summary))")
        #expect(loop.stats.ledger!.totalSecondsOver == 0)
    }

    /// The house alone is over L2 (a load nobody steers). A single-phase car on L1 has all the
    /// room it needs there and charges; the cars that load L2 wait, and nothing control decides
    /// adds to L2 (seed 10030: every car of the panel waited, "the minimum does not fit under
    /// the L2 limit").
    @Test func aCarOnAPhaseWithRoomChargesWhileTheHouseAloneOverloadsAnother() throws {
        let points = [
            ChargePointConfig(id: "cp1", phases: 1, maxCurrent: 16),
            ChargePointConfig(id: "cp2", rotation: .l2l3l1, phases: 1, maxCurrent: 16),
            ChargePointConfig(id: "cp3", phases: 3, maxCurrent: 16),
        ]
        let model = try site(limit: PhaseLimit(25, 10, 25), points: points, timing: TimingConfig(minRunSeconds: 20, minPauseSeconds: 10))
        var config = PlantConfig(model: model)
        config.loads = [LoadSpec(panel: 0, base: PhaseAmperes(3, 12, 3))]
        var plant = Plant(config: config, start: t0, seed: 1)
        plant.plug(charger: 0, car: car)
        plant.plug(charger: 1, car: car)
        plant.plug(charger: 2, car: CarSpec(phases: 3, maxCurrent: 16, lowerDelay: 2, riseDelay: 1, rampRate: 5))
        var loop = ClosedLoop(model: model, plant: plant)
        loop.startupDelay = 1.1  // after the meter's first reading (before it, every car gets its safe current)
        loop.run(seconds: 60)
        let d = try #require(loop.decision)
        #expect(d.setpoints[0].current >= 6, "cp1 on L1 has room: \(d.setpoints.map(\.summary))")
        #expect(d.setpoints[1].current == 0 && d.setpoints[2].current == 0, "\(d.setpoints.map(\.summary))")
        #expect(loop.stats.starts.allSatisfy { $0.point == 0 }, "\(loop.stats.changes.map { "\($0.time.timeIntervalSince(t0)) cp\($0.point + 1) \($0.from)→\($0.to) \($0.reason.description)" })")
    }

    /// A full car keeps a share it does not draw; a car that waits for that room gets it once
    /// the charger has reported the full car drawing nothing for `idle_seconds` — even when
    /// that car's run began on the charger's safe current (it had no run start before).
    @Test func aFullCarGivesItsRoomToACarThatWaits() throws {
        let points = (1...2).map { ChargePointConfig(id: "cp\($0)", phases: 1, maxCurrent: 16) }
        let timing = TimingConfig(minRunSeconds: 300, minPauseSeconds: 20, idleSeconds: 30)
        let model = try site(limit: PhaseLimit(14), points: points, timing: timing)
        var config = PlantConfig(model: model)
        config.loads = [LoadSpec(panel: 0, base: PhaseAmperes(2, 2, 2))]
        // cp1's first report comes after control's first decision: it starts on its safe current.
        config.chargers[0].reportPeriod = 2
        config.chargers[0].reportOffset = 1.6
        var plant = Plant(config: config, start: t0, seed: 1)
        var full = car
        full.energyWantedWh = 15  // about 20 s at 11 A
        plant.plug(charger: 0, car: full)
        var loop = ClosedLoop(model: model, plant: plant)
        loop.startupDelay = 1.1  // after the meter's first reading
        loop.run(seconds: 20, events: [ScheduledEvent(at: t0 + 15) { [car] in $0.plug(charger: 1, car: car) }])
        #expect(loop.stats.changes.first?.reason == .chargerOffline)
        #expect(loop.decision?.setpoints[1].current == 0, "cp2's minimum does not fit beside cp1's")
        loop.run(seconds: 100)
        let d = try #require(loop.decision)
        #expect(d.setpoints[0].current == 0 && d.setpoints[0].reason == .notDrawing(paused: true), "\(d.setpoints.map(\.summary))")
        #expect(d.setpoints[1].current >= 11, "cp2 has the room: \(d.setpoints.map(\.summary))")
        // cp1 became full ~20–25 s in; 30 s of reports drawing nothing; then cp2 starts.
        let cp2Start = try #require(loop.stats.starts.first { $0.point == 1 }?.time)
        #expect(cp2Start.timeIntervalSince(t0) < 25 + 30 + 5, "cp2 started at \(cp2Start.timeIntervalSince(t0)) s")
        #expect(loop.stats.ledger!.totalSecondsOver == 0)
    }

    /// With room to spare a full car keeps its minimum (it may want to draw again: climate,
    /// balancing) but no share beyond it, and nothing moves once it is judged.
    @Test func aFullCarWithRoomToSpareIsKeptAtItsMinimumAndHoldsStill() throws {
        let model = try site(
            limit: PhaseLimit(63), points: [ChargePointConfig(id: "cp1", phases: 1, maxCurrent: 16)],
            timing: TimingConfig(minRunSeconds: 20, minPauseSeconds: 20, idleSeconds: 30))
        var plant = Plant(config: PlantConfig(model: model), start: t0, seed: 1)
        var full = car
        full.energyWantedWh = 0
        plant.plug(charger: 0, car: full)
        var loop = ClosedLoop(model: model, plant: plant)
        loop.run(seconds: 60)
        let d = try #require(loop.decision)
        #expect(d.setpoints[0].current == 6 && d.setpoints[0].reason == .notDrawing(paused: false), "\(d.setpoints.map(\.summary))")
        loop.run(seconds: 300)
        #expect(loop.stats.changes(from: t0 + 60).isEmpty)
    }
}
