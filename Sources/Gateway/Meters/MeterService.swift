import Foundation
import Logging
import MQTT
import MeterIO
import P1
import PhasorCore
import ServiceLifecycle
import TIC

/// One configured meter as a lifecycle `Service`: its byte source (which reopens
/// by itself) feeds the pipeline; a supervision loop watches for a lost meter, the
/// TIC line state and publishes statistics. Stops on graceful shutdown.
public final class MeterService: Service, Sendable {
    public let settings: MeterSettings
    /// The P1 split server, listening from construction on (nil without `split_port`,
    /// or while its port is busy: the meter is read anyway and the split retried).
    public var split: FanOutServer? { splitServer.withLock { $0 } }
    private let splitServer = Locked<FanOutServer?>(nil)
    private let splitRetry: SplitRetry
    private let source: any ByteSource
    private let pipeline: MeterPipeline
    private let supervisionInterval: Duration
    private let logger: Logger

    /// - Parameters:
    ///   - source: where bytes come from; by default the one `settings.source` names.
    ///   - supervisionInterval: how often (real time) lost meters and statistics are
    ///     checked; what counts as lost is decided on `clock`.
    ///   - statsInterval: seconds on `clock` between statistics publications.
    public init(settings: MeterSettings, publisher: ReadingPublisher, clock: any WallClock = SystemWallClock(),
                source: (any ByteSource)? = nil, supervisionInterval: Duration = .milliseconds(500),
                statsInterval: TimeInterval = 10, splitRetryDelay: Duration = .seconds(2), logger: Logger) throws {
        self.settings = settings
        let source = source ?? ReconnectingByteSource.make(
            url: settings.source, serial: settings.serialAlternatives, replayBytesPerSecond: settings.replayBytesPerSecond)
        self.source = source
        splitRetry = SplitRetry(first: splitRetryDelay)
        let decoder: any MeterDecoder
        switch settings.kind {
        case .p1:
            decoder = try P1MeterDecoder(device: settings.id, sevenBitLine: settings.serial.dataBits == 7, smartyKey: settings.smartyKey)
        case .tic:
            decoder = TICMeterDecoder(device: settings.id, expectedMode: settings.serial.baudRate == 1200 ? .historique : .standard)
        }
        self.pipeline = MeterPipeline(
            settings: settings, decoder: decoder, publisher: publisher, clock: clock, statsInterval: statsInterval,
            split: { [splitServer] in splitServer.withLock { $0 } }, switchLineSettings: { source.switchToNextAlternative() }, logger: logger)
        self.supervisionInterval = supervisionInterval
        self.logger = logger
        openSplit()
    }

    /// Listens on the split port; a busy port is logged and retried from `run`'s
    /// supervision loop with a growing delay (issue 9, defect 7: an optional output
    /// never stops the gateway).
    private func openSplit() {
        guard let port = settings.splitPort, split == nil else { return }
        do {
            let server = try FanOutServer(port: port, bindAddress: settings.splitBind)
            splitServer.withLock { $0 = server }
            splitRetry.succeeded()
            logger.info("P1 split listening", metadata: ["meter": "\(settings.id)", "split_port": "\(server.port)", "split_bind": "\(settings.splitBind)"])
        } catch {
            let delay = splitRetry.failed()
            logger.error("P1 split not listening; the meter is read anyway", metadata: [
                "meter": "\(settings.id)", "split_port": "\(port)", "error": "\(error)", "retry_in_s": "\(delay.components.seconds)"])
        }
    }

    /// Whether the source's port, connection or file is open right now (health checks, tests).
    public var sourceIsOpen: Bool { pipeline.sourceIsOpen }

    public func run() async throws {
        logger.info("meter reading", metadata: [
            "meter": "\(settings.id)", "type": "\(settings.kind.rawValue)", "source": "\(source.description)",
            "split_port": "\(settings.splitPort.map(String.init) ?? "-")"])
        let pipeline = self.pipeline
        let interval = supervisionInterval
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    pipeline.supervise()
                    if self.splitRetry.isDue() { self.openSplit() }
                    try? await Task.sleep(for: interval)
                }
            }
            for await event in source.events().cancelOnGracefulShutdown() {
                pipeline.handle(event)
            }
            group.cancelAll()
        }
        pipeline.publishStatistics()
        split?.stop()
        logger.info("meter stopped", metadata: ["meter": "\(settings.id)"])
    }
}

/// When to try a busy split port again: after `first`, doubling up to a minute.
final class SplitRetry: Sendable {
    private let first: Duration
    private let state: Locked<(delay: Duration, due: ContinuousClock.Instant?)>

    init(first: Duration) {
        self.first = first
        state = Locked((first, nil))
    }

    func succeeded() { state.withLock { $0 = (first, nil) } }

    /// Schedules the next attempt; returns its delay.
    func failed() -> Duration {
        state.withLock { s in
            let delay = s.delay
            s = (min(delay * 2, .seconds(60)), .now + delay)
            return delay
        }
    }

    func isDue() -> Bool { state.withLock { s in s.due.map { $0 <= .now } ?? false } }
}
