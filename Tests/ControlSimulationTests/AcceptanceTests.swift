import Control
import ControlSimulation
import Foundation
import Plant
import Testing

/// The acceptance properties of issue 10, run on random sites closed-loop on the plant.
///
/// They are what the control fix must reach; most fail on today's control, so they run
/// only with `PHASOR_ACCEPTANCE=1` (`PHASOR_PLANT_SITES=2000` for more sites,
/// `PHASOR_PLANT_SEED` for another base seed). Every test prints its figures.
enum Acceptance {
    static let environment = ProcessInfo.processInfo.environment
    static let enabled = environment["PHASOR_ACCEPTANCE"] != nil
    /// Random sites: 40 in the test command (about half a minute in a debug build), 100 with
    /// `PHASOR_ACCEPTANCE=1`, or `PHASOR_PLANT_SITES`.
    static let sites = Int(environment["PHASOR_PLANT_SITES"] ?? "") ?? (enabled ? 100 : 40)
    static let baseSeed = UInt64(environment["PHASOR_PLANT_SEED"] ?? "") ?? 10_000
    static let note: Comment =
        "still open (issue 10): a few cars wait beyond the bound behind a queue of starts; PHASOR_ACCEPTANCE=1 runs it"
    /// After the last event the site is given this long to settle: a car that filled up at the
    /// last event is seen to draw nothing only after `idleSeconds` (30 s), and its minimum then
    /// goes to a car that waits (a pause, a settled view, a start) — 90 s in all…
    static let settle: TimeInterval = 90
    /// …and must then hold still for this long.
    static let steady: TimeInterval = 60
}

/// What one random site did.
struct SiteOutcome: Sendable {
    var seed: UInt64
    var points: Int
    var levels: Int
    /// Overload seconds not explained by a rise of uncontrolled load, and their worst excess.
    var decisionSeconds: Double
    var decisionPeak: Double
    /// Overloads after a house step lasting longer than the bound, with the bound.
    var slowHouseEpisodes: [OverloadEpisode]
    var houseBound: TimeInterval
    /// Setpoint changes in the steady window.
    var steadyChanges: Int
    var allChanges: Int
    /// Longest wait of a car whose minimum (plus start buffer) fitted, and the bound.
    var longestWait: Double
    var waitBound: Double
    /// Largest distance of a running car's setpoint from the fair share when every wanting car runs; nil otherwise.
    var fairnessGap: Double?
    var fairnessTolerance: Double
    var roomUsed: Double
    var shortRuns: Int

    static func run(seed: UInt64) throws -> SiteOutcome {
        var site = try RandomPlantSite(seed: seed)
        let steadyFrom = t0 + site.eventsEnd + Acceptance.settle
        let end = steadyFrom + Acceptance.steady
        site.loop.run(until: end, events: site.events)
        if Acceptance.environment["PHASOR_SITE_TRACE"] == "\(seed)" { trace(site) }
        let stats = site.loop.stats
        let model = site.model
        let ledger = stats.ledger!
        let unexplained = ledger.allEpisodes.filter { !$0.explained }
        // Meter period + delay, then the decision on the next main reading or the 1 s timer,
        // the write, and the car's lower delay; one plant step of slack.
        let houseBound = site.slowestMeter + 1 + site.slowestWrite + site.slowestLower + 0.1
        let slow = ledger.allEpisodes.filter { $0.cause == .uncontrolledRise && $0.duration > houseBound }
        let plugged = model.chargePoints.indices.filter { site.loop.plant.isPlugged(charger: $0) }
        var fairnessGap: Double?
        let d = site.loop.decision!
        let wanting = plugged.filter { !site.loop.plant.isFull(charger: $0) }
        if !wanting.isEmpty && wanting.allSatisfy({ d.setpoints[$0].current > 0 }) {
            let unc = site.loop.plant.uncontrolled()
            let room = model.nodes.enumerated().map { n, node in node.limit - unc[n] }
            let cars = wanting.map { i in
                let cp = model.chargePoints[i]
                let phases = min(site.loop.plant.car(charger: i)!.phases, cp.phases)
                return FairShare.Car(chain: cp.ancestors, mask: cp.rotation.gridMask(phases: phases), maximum: cp.maxCurrent)
            }
            let fair = FairShare.allocate(cars: cars, room: room)
            fairnessGap = zip(wanting, fair).map { i, f in abs(d.setpoints[i].current - f) }.max()
            if Acceptance.environment["PHASOR_SITE_TRACE"] == "\(seed)" {
                print("uncontrolled \(unc); fair \(zip(wanting, fair).map { "cp \($0): \(fmt($1))" }); decided \(wanting.map { "cp \($0): \(fmt(d.setpoints[$0].current)) (\(d.setpoints[$0].reason.description))" })")
            }
        }
        let step = model.chargePoints.map(\.currentStep).max() ?? 0.1
        return SiteOutcome(
            seed: seed, points: model.chargePoints.count, levels: model.nodes.map(\.level).max() ?? 1,
            decisionSeconds: ledger.unexplainedSeconds, decisionPeak: unexplained.map(\.peak).max() ?? 0,
            slowHouseEpisodes: slow, houseBound: houseBound,
            steadyChanges: stats.changes(from: steadyFrom).count, allChanges: stats.changes.count,
            longestWait: stats.longestWaitWhileFitting.max() ?? 0,
            // A paused car's minimum pause; then the room must be seen (the slowest meter), the
            // settled views of the window agree, the cars lowered for it follow (the EV response
            // time after the write), and the next cycle starts it.
            waitBound: model.timing.minPauseSeconds + site.slowestMeter + model.timing.viewWindowSeconds
                + model.timing.evResponseSeconds + site.slowestWrite + 2,
            fairnessGap: fairnessGap, fairnessTolerance: model.timing.hysteresisA + step + 2 * site.noise + 0.1,
            roomUsed: stats.roomUsed, shortRuns: stats.shortRuns(under: model.timing.minRunSeconds).count)
    }

    /// Prints a site's tree, its changes and its overload episodes (PHASOR_SITE_TRACE=<seed>).
    static func trace(_ site: RandomPlantSite) {
        for (n, node) in site.model.nodes.enumerated() {
            print("node \(n) \(node.id) level \(node.level) parent \(node.parent.map(String.init) ?? "-") limit \(node.limit) meter \(node.meter)")
        }
        for (i, cp) in site.model.chargePoints.enumerated() {
            print("cp \(i) \(cp.id) node \(cp.node) \(cp.phases)p \(cp.rotation.rawValue) max \(cp.maxCurrent) car \(site.loop.plant.car(charger: i).map { "\($0)" } ?? "-")")
        }
        if let d = site.loop.decision {
            for (i, sp) in d.setpoints.enumerated() { print("  final cp \(i): \(fmt(sp.current)) A \(sp.phases)p (\(sp.reason.description))") }
            let truth = site.loop.plant.uncontrolled()
            for (n, f) in d.nodes.enumerated() { print("  node \(n): control sees uncontrolled \(f.uncontrolled), truth \(truth[n]), cars \(f.chargePoints)") }
        }
        for c in site.loop.stats.changes {
            print("  \(fmt(c.time.timeIntervalSince(t0))) cp \(c.point) \(fmt(c.from)) → \(fmt(c.to)) (\(c.reason.description))")
        }
        for e in site.loop.stats.ledger!.allEpisodes {
            print("  over: node \(e.panel) L\(e.phase + 1) \(fmt(e.start.timeIntervalSince(t0)))–\(fmt(e.end.timeIntervalSince(t0))) +\(fmt(e.peak)) A \(e.cause)")
        }
    }

    /// Every site of the run, computed once for all the tests of the suites, on a thread of
    /// its own: the sites take tens of seconds of CPU, which on the cooperative pool (two
    /// threads on two cores) would starve every other test's waits for brokers and peers.
    static let computed = Task<[SiteOutcome], Never> {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    returning: (0..<UInt64(Acceptance.sites)).compactMap { k in try? run(seed: Acceptance.baseSeed + k) })
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
    static var all: [SiteOutcome] { get async { await computed.value } }
}

func reportAcceptance(_ name: String, _ failing: [SiteOutcome], of total: Int, _ figure: String) {
    let seeds = failing.prefix(8).map { "\($0.seed)" }.joined(separator: ", ")  // the worst first
    print("[acceptance] \(name): \(failing.count) of \(total) sites fail; \(figure); seeds \(seeds)")
}

/// The acceptance properties control holds (safety since sequencing; steadiness and fairness since
/// the held house view and the breaker margin kept for raises only): run in the test command.
@Suite(.serialized) struct LoopSafetyTests {
    func report(_ name: String, _ failing: [SiteOutcome], _ figure: String) {
        reportAcceptance(name, failing, of: Acceptance.sites, figure)
    }

    @Test func zeroOverloadsCausedByADecision() async {
        let all = await SiteOutcome.all
        #expect(all.count == Acceptance.sites, "every random site builds")
        let failing = all.filter { $0.decisionSeconds > 0 }.sorted { $0.decisionPeak > $1.decisionPeak }
        let seconds = all.reduce(0) { $0 + $1.decisionSeconds }
        let peak = all.map(\.decisionPeak).max() ?? 0
        report("decision-caused overloads", failing, "total \(fmt(seconds)) s over, worst +\(fmt(peak)) A")
        #expect(failing.isEmpty)
    }

    @Test func houseStepOverloadsEndWithinMeterPeriodDecisionAndEVResponse() async {
        let all = await SiteOutcome.all
        let failing = all.filter { !$0.slowHouseEpisodes.isEmpty }
        let worst = all.flatMap { s in s.slowHouseEpisodes.map { $0.duration - s.houseBound } }.max() ?? 0
        report("slow house-step overloads", failing, "longest \(fmt(worst)) s beyond its bound")
        #expect(failing.isEmpty)
    }

    @Test func noSetpointChangesOnceSteady() async {
        let all = await SiteOutcome.all
        let failing = all.filter { $0.steadyChanges > 0 }.sorted { $0.steadyChanges > $1.steadyChanges }
        let total = all.reduce(0) { $0 + $1.steadyChanges }
        let worst = all.map(\.steadyChanges).max() ?? 0
        report(
            "setpoint changes in the steady \(Int(Acceptance.steady)) s (after \(Int(Acceptance.settle)) s settling)", failing,
            "\(total) changes in all, up to \(worst) on one site")
        #expect(failing.isEmpty)
    }

    @Test func steadyAllocationIsMaxMinFairWithinTheHysteresis() async {
        let all = await SiteOutcome.all
        let checked = all.filter { $0.fairnessGap != nil }
        let failing = checked.filter { $0.fairnessGap! > $0.fairnessTolerance }
        let worst = checked.map { $0.fairnessGap! }.max() ?? 0
        report("unfair steady allocations (of \(checked.count) checked)", failing, "worst gap \(fmt(worst)) A")
        #expect(failing.isEmpty)
    }

    /// Sites of the 1000-site run (seeds 30000–30999) that once failed, kept so they stay mended:
    /// a car plugged in at start into a charger sent its safe current onto a full phase (30176);
    /// an unplugged charger's old limit forgotten (30359); a car lowered while ramping believed
    /// to follow (30817); a ramp seen by the meter before the report held as house load, a
    /// 14 ↔ 15 A cycle every 5 s on a steady site (30640); a start stopped 6 s later, every
    /// 26 s, when a report taken during its ramp was read beside a later meter reading as a
    /// settled view (30130); a replugged car taken for the full one before it, kept waiting
    /// (30238); a three-phase car overtaken by later single-phase ones (30965). Waits the
    /// judgement once blamed on control: a car queued behind a full one that control can only
    /// find by trying it (30415), behind a car control may start first by its own margin
    /// (30632), or plugged in first but reported second (30662).
    @Test(arguments: [30176, 30359, 30817, 30640, 30130, 30238, 30965, 30415, 30632, 30662] as [UInt64])
    func formerCounterexamplesHold(seed: UInt64) throws {
        let o = try SiteOutcome.run(seed: seed)
        #expect(o.decisionSeconds == 0, "seed \(seed): \(o.decisionSeconds) s over by a decision, +\(o.decisionPeak) A")
        #expect(o.steadyChanges == 0, "seed \(seed): \(o.steadyChanges) changes once steady")
        if [30238, 30965, 30415, 30632, 30662].contains(seed) {
            #expect(o.longestWait <= o.waitBound, "seed \(seed): waited \(o.longestWait) s, bound \(o.waitBound) s")
        }
    }

    /// A figure, not a property: after a house step a breaker may have to stop a car early.
    @Test func figuresShortRunsAndRoomUsed() async {
        let all = await SiteOutcome.all
        let failing = all.filter { $0.shortRuns > 0 }
        let room = all.reduce(0) { $0 + $1.roomUsed } / Double(max(1, all.count))
        report("sites with runs shorter than the minimum run", failing,
               "\(all.reduce(0) { $0 + $1.shortRuns }) short runs; room used on average \(fmt(room * 100)) %")
        #expect(all.count == Acceptance.sites)
    }
}

/// What is still open: gated, run with `PHASOR_ACCEPTANCE=1` (figures in docs/plant.md).
@Suite(.enabled(if: Acceptance.enabled, Acceptance.note), .serialized)
struct AcceptanceTests {
    func report(_ name: String, _ failing: [SiteOutcome], _ figure: String) {
        reportAcceptance(name, failing, of: Acceptance.sites, figure)
    }

    @Test func everyCarWhoseMinimumFitsChargesWithinTheStatedBound() async {
        let all = await SiteOutcome.all
        let failing = all.filter { $0.longestWait > $0.waitBound }.sorted {
            $0.longestWait - $0.waitBound > $1.longestWait - $1.waitBound
        }
        let worst = all.map { $0.longestWait - $0.waitBound }.max() ?? 0
        report("cars waiting while their minimum fits", failing, "worst \(fmt(worst)) s beyond the bound")
        #expect(failing.isEmpty)
    }
}

func fmt(_ x: Double) -> String { x.formatted(.number.precision(.fractionLength(0...2))) }
