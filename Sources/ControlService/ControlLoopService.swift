import Control
import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorService
import ServiceLifecycle

/// phasor-control's MQTT side. It keeps the gateway's latest meter and charger
/// states, runs the control library on every new reading of the main meter and at
/// least once per `cycleInterval`, publishes every charge point's setpoint and
/// `…/control/state`, takes operator commands on `…/control/…/set`, and keeps its
/// state on disk across restarts. See docs/control-service.md.
///
/// The pieces: telemetry (`+Telemetry`), commands (`+Commands`), the cycle and its
/// publication (`+Cycle`), persistence (`StateSaver`).
public final class ControlLoopService: Service, Sendable {
    let client: MQTTClient
    let topics: TopicBuilder
    let model: SiteModel
    let logger: Logger
    let clock: any WallClock
    let cycleInterval: Duration
    let startupDelay: Duration
    let saveInterval: Duration
    let publisher: ControlPublisher
    let saver: StateSaver?
    let engine: Locked<ControlEngine>
    /// When the last cycle ran (monotonic): the timer only decides when readings did not.
    let lastCycle: Locked<CycleMark>
    /// False until the startup delay is over: the retained states arrive on several
    /// subscriptions at once, and a decision on the main meter's alone would, for a
    /// moment, treat every charger not yet heard from as offline.
    let ready: Locked<Bool>

    /// - Parameters:
    ///   - stateDirectory: where the state file lives; nil keeps no state on disk.
    ///   - cycleInterval: the longest time without a decision.
    ///   - startupDelay: how long the retained states have to arrive before the first decision.
    ///   - saveInterval: the shortest time between two saves of a changed state.
    public init(
        client: MQTTClient, topics: TopicBuilder, model: SiteModel, logger: Logger,
        clock: any WallClock = SystemWallClock(), stateDirectory: String? = nil,
        cycleInterval: Duration = .seconds(1), startupDelay: Duration = .milliseconds(500),
        saveInterval: Duration = .seconds(5)
    ) {
        self.client = client
        self.topics = topics
        self.model = model
        self.logger = logger
        self.clock = clock
        self.cycleInterval = cycleInterval
        self.startupDelay = startupDelay
        self.saveInterval = saveInterval
        publisher = ControlPublisher(client: client, topics: topics, model: model)

        var state = ControlState(model: model)
        var saver: StateSaver? = nil
        var savedHouse: HouseState? = nil
        if let stateDirectory {
            let file = StateFile(directory: stateDirectory, site: topics.site)
            let saved = StateSaver.load(file: file, logger: logger)
            if let saved {
                state = RestoredState.merge(saved: saved.state, model: model)
                logger.info(
                    "control state restored",
                    metadata: ["file": "\(file.url.path)", "saved_at": "\(ISO8601.format(saved.savedAt, utcOffsetSeconds: 0))"])
            }
            saver = StateSaver(file: file, clock: clock, logger: logger, restored: saved?.state, house: saved?.house)
            savedHouse = saved?.house
        }
        self.saver = saver
        let firstSequence = UInt64(max(0, clock.now().timeIntervalSince1970 * 1000))
        var heatPumpModel: HeatPumpModel? = nil
        if let name = model.house?.heatPump?.model {
            // The site check refused an unknown model already; the table is shipped with the binary.
            heatPumpModel = (try? HeatPumpTable.load())?.model(name)
        }
        engine = Locked(
            ControlEngine(
                model: model, state: state, firstSequence: firstSequence, now: clock.now(), heatPumpModel: heatPumpModel,
                savedHouse: savedHouse))
        lastCycle = Locked(CycleMark(at: .now, byMeter: false))
        ready = Locked(false)
    }

    /// The site model control runs on: the site file's `control:` tree; without one,
    /// the demo tree when `demo` was asked for, else a `ConfigError` (control never
    /// steers chargers on a tree nobody wrote).
    public static func model(for site: SiteConfiguration, demo: Bool = false, file: String? = nil, logger: Logger? = nil)
        throws -> SiteModel
    {
        if let control = site.control { return try SiteModel(config: control) }
        guard demo else {
            throw ConfigError(
                file: file ?? "command line", line: nil, field: "control",
                message: "missing: phasor-control needs a control: section in the site file (--config; the site tree, "
                    + "see docs/control-service.md), or --demo for the demo tree")
        }
        logger?.warning("running the DEMO control tree (--demo): main 25 A, cp1 16 A, cp2 32 A on L2; not for a real site")
        return try SiteModel(config: DemoControlSite.config)
    }

    public func run() async throws {
        let root = topics.root
        let meters = try await client.subscribe("\(root)/meter/+/state", qos: .atLeastOnce)
        let chargers = try await client.subscribe("\(root)/chargepoint/+/state", qos: .atLeastOnce)
        let applied = try await client.subscribe("\(root)/chargepoint/+/applied", qos: .atLeastOnce)
        let availability = try await client.subscribe("\(root)/device/+/availability", qos: .atLeastOnce)
        let relays = try await client.subscribe("\(root)/relay/+/state", qos: .atLeastOnce)
        let relayAnswers = try await client.subscribe("\(root)/relay/+/applied", qos: .atLeastOnce)
        // Commands are `…/control/<path>/set`; `control/state` (ours) is filtered out below.
        // Retained commands are refused (see `RetainedCommands`).
        let commands = try await client.subscribe("\(root)/control/#", options: .commands)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await m in meters { self.handleMeter(m) } }
            group.addTask { for await m in chargers { self.handleCharger(m) } }
            group.addTask { for await m in applied { self.handleApplied(m) } }
            group.addTask { for await m in availability { self.handleAvailability(m) } }
            group.addTask { for await m in relays { self.handleRelayState(m) } }
            group.addTask { for await m in relayAnswers { self.handleRelayAnswer(m) } }
            group.addTask { for await m in commands where m.topic.hasSuffix("/set") { await self.handleCommand(m) } }
            group.addTask { await self.runTimer() }
            group.addTask { await self.runSaver() }
            try? await gracefulShutdown()
            for subscription in [meters, chargers, applied, availability, relays, relayAnswers, commands] { subscription.cancel() }
            group.cancelAll()
        }
        // The last word: a restart continues from here.
        let last = engine.withLock { ($0.state, $0.house?.state) }
        saver?.save(last.0, house: last.1)
    }

    /// Takes the first decision after the startup delay, then decides when no
    /// decision was taken for an interval (one and a half after a main-meter
    /// reading's: see `CycleMark`), so each meter reading gives one decision.
    private func runTimer() async {
        do { try await Task.sleep(for: startupDelay) } catch { return }
        ready.withLock { $0 = true }
        runCycle()
        while !Task.isCancelled {
            let due = lastCycle.withLock { $0 }.timerDue(interval: cycleInterval)
            do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
            if ContinuousClock.now >= lastCycle.withLock({ $0 }).timerDue(interval: cycleInterval) { runCycle() }
        }
    }

    private func runSaver() async {
        guard let saver else { return }
        while !Task.isCancelled {
            do { try await Task.sleep(for: saveInterval) } catch { return }
            let now = engine.withLock { ($0.state, $0.house?.state) }
            saver.save(now.0, house: now.1)
        }
    }
}
