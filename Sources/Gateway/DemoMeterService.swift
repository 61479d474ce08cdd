import Foundation
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// Publishes the demo meter once a second until shutdown.
public struct DemoMeterService: Service {
    let publisher: ReadingPublisher
    let meter: DemoMeter
    let clock: any WallClock
    let interval: Duration
    let logger: Logger

    public init(publisher: ReadingPublisher, meter: DemoMeter = DemoMeter(), clock: any WallClock = SystemWallClock(),
                interval: Duration = .seconds(1), logger: Logger) {
        self.publisher = publisher
        self.meter = meter
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        logger.info("demo meter running", metadata: ["device": "\(meter.device)", "topic": "\(publisher.topics.meterState(meter.device))"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try publisher.publish(meter.reading(at: clock.now()))
            } catch {
                logger.warning("demo reading not published", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
