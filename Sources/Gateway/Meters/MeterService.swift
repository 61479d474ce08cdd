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
    /// The P1 split server, listening from construction on (nil without `split_port`).
    public let split: FanOutServer?
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
                statsInterval: TimeInterval = 10, logger: Logger) throws {
        self.settings = settings
        let source = source ?? ReconnectingByteSource.make(
            url: settings.source, serial: settings.serialAlternatives, replayBytesPerSecond: settings.replayBytesPerSecond)
        self.source = source
        self.split = try settings.splitPort.map { try FanOutServer(port: $0, bindAddress: settings.splitBind) }
        let decoder: any MeterDecoder
        switch settings.kind {
        case .p1:
            decoder = try P1MeterDecoder(device: settings.id, sevenBitLine: settings.serial.dataBits == 7, smartyKey: settings.smartyKey)
        case .tic:
            decoder = TICMeterDecoder(device: settings.id, expectedMode: settings.serial.baudRate == 1200 ? .historique : .standard)
        }
        self.pipeline = MeterPipeline(
            settings: settings, decoder: decoder, publisher: publisher, clock: clock, statsInterval: statsInterval,
            split: split, switchLineSettings: { source.switchToNextAlternative() }, logger: logger)
        self.supervisionInterval = supervisionInterval
        self.logger = logger
    }

    /// Whether the source's port, connection or file is open right now (health checks, tests).
    public var sourceIsOpen: Bool { pipeline.sourceIsOpen }

    public func run() async throws {
        logger.info("meter reading", metadata: [
            "meter": "\(settings.id)", "type": "\(settings.kind.rawValue)", "source": "\(source.description)",
            "split_port": "\(split.map { String($0.port) } ?? "-")"])
        let pipeline = self.pipeline
        let interval = supervisionInterval
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    pipeline.supervise()
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
