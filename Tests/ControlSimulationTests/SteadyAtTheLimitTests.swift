import Control
import ControlSimulation
import Foundation
import Plant
import Testing

/// A site that runs close to a breaker must hold still: the margin below the limit is where
/// raises and starts aim, not a line that stops a running car (acceptance seed 10017).
@Suite struct SteadyAtTheLimitTests {
    /// A single-phase car started near its minimum on a 25 A connection (house 18 A ± 0.2 A on
    /// its phase); the house then rises by 0.4 A, so car and house sit between the limit minus
    /// the 0.5 A margin and the limit itself. The car keeps running, nothing changes for the rest
    /// of the run, and the connection is never over its limit. (It was stopped — "the minimum no
    /// longer fits" — paused, restarted when the noise dipped, and stopped again.)
    @Test func aRunningCarKeepsItsMinimumWhileTheHouseSitsInsideTheBreakerMargin() throws {
        let model = try SiteModel(
            config: SiteConfig(
                preset: .hub, budget: BudgetConfig(sliderKW: 1000, marginKW: 0),
                timing: TimingConfig(minRunSeconds: 20, minPauseSeconds: 10, hysteresisA: 1),
                site: PanelConfig(
                    id: "main", currentLimit: PhaseLimit(25), meter: .device("grid"),
                    chargePoints: [ChargePointConfig(id: "cp1", phases: 1, maxCurrent: 16)])))
        #expect(model.timing.breakerMarginA == 0.5)
        var config = PlantConfig(model: model)
        config.loads = [LoadSpec(panel: 0, base: PhaseAmperes(18, 2, 2), noise: 0.2, noiseHold: 1)]
        var plant = Plant(config: config, start: t0, seed: 7)
        plant.plug(charger: 0, car: CarSpec(phases: 1, maxCurrent: 16, lowerDelay: 2, riseDelay: 1, rampRate: 5))
        var loop = ClosedLoop(model: model, plant: plant)
        loop.startupDelay = 1.1
        let step = t0 + 60
        loop.run(seconds: 240, events: [ScheduledEvent(at: step) { $0.setLoad(0, base: PhaseAmperes(18.4, 2, 2)) }])
        let after = loop.stats.changes.filter { $0.time > step + 20 }
        #expect(after.isEmpty, "\(after.map { "\(Int($0.time.timeIntervalSince(t0))) s: \($0.from) → \($0.to) (\($0.reason.description))" })")
        let d = try #require(loop.decision)
        #expect(d.setpoints[0].current >= 6, "\(d.setpoints.map(\.summary))")
        #expect(loop.stats.ledger!.totalSecondsOver == 0)
    }
}

extension SteadyAtTheLimitTests {
    /// Random acceptance sites that moved a setpoint once steady, each for its own reason: a car
    /// at its minimum stopped inside the breaker margin (10017), a share near a step raised into
    /// a lull of the house's noise and taken back by the next peak (10049, 20080).
    /// They run in the 40-site test command only in part, so here by seed.
    @Test(arguments: [10017, 10049, 20080] as [UInt64])
    func randomSitesThatOnceMovedHoldStill(seed: UInt64) throws {
        let outcome = try SiteOutcome.run(seed: seed)
        #expect(outcome.steadyChanges == 0, "seed \(seed): \(outcome.steadyChanges) changes once steady (PHASOR_SITE_TRACE=\(seed) tells the story)")
        #expect(outcome.decisionSeconds == 0)
    }
}
