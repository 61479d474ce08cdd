import Control
import ControlSimulation
import Foundation
import Plant
import Testing

/// The site of issue 10's "Why", closed-loop on the plant: a 32 A main connection metered
/// every second; one three-phase point on it; a 20 A garage panel on a virtual meter with
/// a three-phase point and a single-phase point on a rotated phase (L2). Chargers report
/// every second, half a second after the meter; cars take about a second to lower and
/// ramp up over about two seconds. The three cars arrive at 5 s while a kettle (+10 A on
/// L1) is on; it goes off at 60 s and on again at 120 s.
enum WhyScenario {
    static let minRun: TimeInterval = 20
    /// A change (cars arriving, the kettle) may move setpoints for this long; then they hold still.
    static let settle: TimeInterval = 20

    static func model(maxCurrent: Double) throws -> SiteModel {
        try SiteModel(
            config: SiteConfig(
                preset: .residential, budget: BudgetConfig(sliderKW: 1000, marginKW: 0),
                timing: TimingConfig(minRunSeconds: minRun, minPauseSeconds: 20, hysteresisA: 1),
                site: PanelConfig(
                    id: "main", currentLimit: PhaseLimit(32), meter: .device("grid"),
                    panels: [
                        PanelConfig(
                            id: "garage", currentLimit: PhaseLimit(20), meter: .virtual,
                            chargePoints: [
                                ChargePointConfig(id: "cp2", maxCurrent: maxCurrent),
                                ChargePointConfig(id: "cp3", rotation: .l2l3l1, phases: 1, maxCurrent: maxCurrent),
                            ])
                    ],
                    chargePoints: [ChargePointConfig(id: "cp1", maxCurrent: maxCurrent)])))
    }

    struct Outcome {
        var stats: LoopStats
        /// Setpoint changes in the quiet stretches (15 s after each event until the next).
        var quietChanges: Int
        var quietSeconds: Double
        var shortRuns: [LoopStats.Stop]
    }

    /// Runs the scenario; `seed` varies the cars' delays (lower 0.8–1.2 s, ramp 1.5–2.5 s).
    static func run(
        seed: UInt64, maxCurrent: Double = 32, noise: Double = 0.2, meterResolution: Double = 0.01,
        seconds: TimeInterval = 180
    ) throws -> Outcome {
        var rng = SeededGenerator(seed: seed)
        let model = try model(maxCurrent: maxCurrent)
        var config = PlantConfig(model: model)
        config.meters[0].offset = 0
        config.meters[0].currentResolution = meterResolution
        for i in config.chargers.indices {
            config.chargers[i].reportOffset = 0.5
            config.chargers[i].writeLatency = 0.1
        }
        config.loads = [LoadSpec(panel: 0, base: PhaseAmperes(2, 1.5, 1), noise: noise, noiseHold: 1)]
        config.explainWindow = 1 + 0.1 + 1.2 + 1
        let plant = Plant(config: config, start: t0, seed: seed)
        var events: [ScheduledEvent] = []
        for i in model.chargePoints.indices {
            let car = CarSpec(
                phases: model.chargePoints[i].phases, maxCurrent: maxCurrent, lowerDelay: rng.double(0.8...1.2),
                riseDelay: 0.3, rampRate: 16 / rng.double(1.5...2.5))
            events.append(ScheduledEvent(at: t0 + 5) { $0.plug(charger: i, car: car) })
        }
        // The kettle is on when the cars arrive, off at 60 s, on again at 120 s.
        let house = PhaseAmperes(2, 1.5, 1)
        let kettle = PhaseAmperes(10, 0, 0)
        events.append(ScheduledEvent(at: t0) { $0.setLoad(0, base: house + kettle) })
        events.append(ScheduledEvent(at: t0 + 60) { $0.setLoad(0, base: house) })
        events.append(ScheduledEvent(at: t0 + 120) { $0.setLoad(0, base: house + kettle) })
        var loop = ClosedLoop(model: model, plant: plant)
        loop.run(until: t0 + seconds, events: events)
        if Acceptance.environment["PHASOR_WHY_TRACE"] != nil {
            for c in loop.stats.changes {
                print("  \(fmt(c.time.timeIntervalSince(t0))) cp\(c.point + 1) \(fmt(c.from)) → \(fmt(c.to)) (\(c.reason.description))")
            }
            for e in loop.plant.ledger.allEpisodes {
                let span = "\(fmt(e.start.timeIntervalSince(t0)))–\(fmt(e.end.timeIntervalSince(t0)))"
                print("  over: \(model.nodes[e.panel].id) L\(e.phase + 1) \(span) +\(fmt(e.peak)) A \(e.cause)")
            }
        }
        // Quiet: from `settle` after each event to the next one.
        let quiet = [(t0 + 5 + settle, t0 + 60), (t0 + 60 + settle, t0 + 120), (t0 + 120 + settle, t0 + seconds)]
        let changes = quiet.reduce(0) { $0 + loop.stats.changes(from: $1.0, to: $1.1).count }
        let quietSeconds = quiet.reduce(0) { $0 + $1.1.timeIntervalSince($1.0) }
        return Outcome(
            stats: loop.stats, quietChanges: changes, quietSeconds: quietSeconds,
            shortRuns: loop.stats.shortRuns(under: minRun))
    }
}

@Suite
struct WhyScenarioTests {
    @Test(arguments: [1, 2, 3] as [UInt64], [0.0, 0.2])
    func holdsStillNeverStartStopsAndNeverOverloadsByItsOwnDecisions(seed: UInt64, noise: Double) throws {
        let o = try WhyScenario.run(seed: seed, noise: noise)
        let ledger = o.stats.ledger!
        let worst = ledger.allEpisodes.filter { !$0.explained }.map(\.peak).max() ?? 0
        let changes = o.stats.changes.count
        let figures = "\(changes) setpoint changes in 180 s, \(o.quietChanges) in \(Int(o.quietSeconds)) quiet s; "
            + "\(o.shortRuns.count) runs shorter than \(Int(WhyScenario.minRun)) s; "
            + "decision-caused overload \(fmt(ledger.unexplainedSeconds)) s (worst +\(fmt(worst)) A), "
            + "after the kettle \(fmt(ledger.explainedSeconds)) s; room used \(fmt(o.stats.roomUsed * 100)) %"
        print("[why seed \(seed), house noise ±\(noise) A] " + figures)
        #expect(o.quietChanges == 0, "hunting: \(o.quietChanges) setpoint changes in quiet periods")
        #expect(o.shortRuns.isEmpty, "start-stop: \(o.shortRuns.map { "cp\($0.point + 1) after \(fmt($0.ranFor)) s" })")
        #expect(ledger.unexplainedSeconds == 0, "overloads caused by decisions")
    }

    /// The same with the meter's whole amperes (DSMR): rounding hides up to 0.5 A per phase.
    @Test func withWholeAmpereMeterReadings() throws {
        let o = try WhyScenario.run(seed: 1, meterResolution: 1)
        let ledger = o.stats.ledger!
        print("[why, DSMR whole amperes] \(o.quietChanges) quiet changes, \(o.shortRuns.count) short runs, decision-caused overload \(fmt(ledger.unexplainedSeconds)) s, worst +\(fmt(ledger.worstExcess)) A")
        #expect(o.quietChanges == 0)
        #expect(ledger.unexplainedSeconds == 0)
    }
}
