import Foundation
import Logging
import MQTT
import PhasorCore
import Pulse
import ServiceLifecycle

/// One S0 input as a meter: every counted pulse is saved, then published on
/// `…/meter/<id>/state` (total and rate); between pulses the state is published
/// every `refresh` so the decaying rate reaches consumers.
public struct PulseMeterService: Service {
    let counter: PulseCounter
    let source: any PulseSource
    let publisher: ReadingPublisher
    let clock: any WallClock
    let refresh: Duration
    let retry: RetryDelays
    let logger: Logger

    /// How long to wait before reopening a source that failed: `first`, doubling up to `longest`.
    public struct RetryDelays: Sendable {
        public var first: Duration
        public var longest: Duration
        public init(first: Duration = .seconds(1), longest: Duration = .seconds(60)) {
            self.first = first
            self.longest = longest
        }
    }

    public init(counter: PulseCounter, source: any PulseSource, publisher: ReadingPublisher,
                clock: any WallClock = SystemWallClock(), refresh: Duration = .seconds(10), retry: RetryDelays = RetryDelays(),
                logger: Logger) {
        self.counter = counter
        self.source = source
        self.publisher = publisher
        self.clock = clock
        self.refresh = refresh
        self.retry = retry
        self.logger = logger
    }

    public func run() async throws {
        let id = counter.config.id
        let saved = await counter.count
        logger.info("pulse input counting", metadata: [
            "input": "\(id)", "count": "\(saved)", "topic": "\(publisher.topics.meterState(id))",
        ])
        await publish()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.count() }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.refresh)
                        await self.publish()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Counts until cancelled. A source that cannot be opened or fails is reported
    /// offline on `device/<id>/availability` and reopened after a growing delay: one
    /// missing GPIO chip never stops the gateway (issue 9, defect 7).
    private func count() async {
        let id = counter.config.id
        var delay = retry.first
        while !Task.isCancelled {
            var problem: String
            do {
                try source.checkOpens()
                setAvailability("online")
                delay = retry.first
                for try await edge in source.edges() {
                    if edge.missed > 0 {
                        logger.warning("pulses lost by the kernel", metadata: ["input": "\(id)", "missed": "\(edge.missed)"])
                    }
                    if try await counter.handle(edge) { await publish() }
                }
                problem = "the source ended"
            } catch {
                problem = "\(error)"
            }
            if Task.isCancelled { return }
            setAvailability("offline")
            logger.error("pulse input offline", metadata: [
                "input": "\(id)", "error": "\(problem)", "retry_in_s": "\(delay.components.seconds)"])
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, retry.longest)
        }
    }

    private func setAvailability(_ value: String) {
        publisher.client.publish(
            MQTTMessage(topic: publisher.topics.deviceAvailability(counter.config.id), string: value, qos: .atLeastOnce, retain: true),
            orLog: logger)
    }

    private func publish() async {
        do { try publisher.publish(await counter.reading(at: clock.now())) } catch {
            logger.warning("pulse reading not published", metadata: ["input": "\(counter.config.id)", "error": "\(error)"])
        }
    }
}

/// The `pulses:` section as services, one per input.
public enum PulseGateway {
    public static func services(_ section: PulseSection?, publisher: ReadingPublisher, clock: any WallClock = SystemWallClock(),
                                logger: Logger) throws -> [any Service] {
        guard let section else { return [] }
        try section.validate()
        let folder = section.stateFolder ?? PulseSection.defaultStateFolder
        return section.inputs.map { input in
            PulseInputService(input: input, folder: folder, publisher: publisher, clock: clock, logger: logger)
        }
    }
}

/// One S0 input, from its counter file on: a counter that cannot be kept (state folder
/// not writable, file damaged) leaves this input offline and is retried with a growing
/// delay, like a missing GPIO line; the other inputs and the rest of the gateway run.
struct PulseInputService: Service {
    let input: PulseInputConfig
    let folder: String
    let publisher: ReadingPublisher
    let clock: any WallClock
    let retry = PulseMeterService.RetryDelays()
    let logger: Logger

    func run() async throws {
        // A graceful shutdown ends a retry delay at once.
        try await cancelWhenGracefulShutdown { try await self.keepTrying() }
    }

    private func keepTrying() async throws {
        var delay = retry.first
        while !Task.isCancelled {
            do {
                let counter = try PulseCounter(config: input, store: PulseCounterStore(folder: folder, id: input.id))
                try await PulseMeterService(counter: counter, source: GPIOPulseSource(config: input, clock: clock),
                                            publisher: publisher, clock: clock, retry: retry, logger: logger).run()
                return
            } catch {
                publisher.client.publish(
                    MQTTMessage(topic: publisher.topics.deviceAvailability(input.id), string: "offline", qos: .atLeastOnce, retain: true),
                    orLog: logger)
                logger.error("pulse input offline: its counter cannot be kept", metadata: [
                    "input": "\(input.id)", "error": "\(error)", "retry_in_s": "\(delay.components.seconds)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, retry.longest)
        }
    }
}
