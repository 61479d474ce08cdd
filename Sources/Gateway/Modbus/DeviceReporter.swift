import Foundation
import Logging
import Modbus
import MQTT
import PhasorCore
import PhasorService

/// Publishes a device's availability (retained, only when it changes) and its
/// statistics (retained, after every poll), and logs each change of availability
/// with the counters that explain it, and the counters every five minutes.
struct DeviceReporter {
    let id: String
    let client: MQTTClient
    let topics: TopicBuilder
    let logger: Logger
    private var published: Availability = .unknown
    /// Counters go to the log at info level this often (every poll at debug level).
    private let logInterval: TimeInterval = 300
    private var lastLogged: Date?

    init(id: String, client: MQTTClient, topics: TopicBuilder, logger: Logger) {
        self.id = id
        self.client = client
        self.topics = topics
        self.logger = logger
    }

    /// Returns the availability now published.
    @discardableResult
    mutating func report(_ health: DeviceHealth, at now: Date) -> Availability {
        let stats = DeviceStatsPayload(id: id, time: now, health: health)
        PhasorMetrics.recordModbus(device: id, health.statistics)
        if health.availability != published && health.availability != .unknown {
            published = health.availability
            let s = health.statistics
            let metadata: Logger.Metadata = [
                "device": "\(id)", "availability": "\(published.rawValue)", "requests": "\(s.requests)",
                "errors": "\(s.errors)", "timeouts": "\(s.timeouts)", "last_error": "\(s.lastError.map { "\($0)" } ?? "-")",
            ]
            if published == .online { logger.info("device online", metadata: metadata) } else {
                logger.warning("device offline", metadata: metadata)
            }
            send(MQTTMessage(topic: topics.deviceAvailability(id), string: published.rawValue, qos: .atLeastOnce, retain: true))
        }
        let statsText = String(decoding: stats.encode(), as: UTF8.self)
        if lastLogged.map({ now.timeIntervalSince($0) >= logInterval }) ?? true {
            lastLogged = now
            logger.info("device stats", metadata: ["device": "\(id)", "stats": "\(statsText)"])
        } else {
            logger.debug("device stats", metadata: ["device": "\(id)", "stats": "\(statsText)"])
        }
        send(MQTTMessage(topic: topics.deviceStats(id), payload: stats.encode(), qos: .atLeastOnce, retain: true,
                         properties: MQTTPublishProperties(contentType: "application/json")))
        return published
    }

    private func send(_ message: MQTTMessage) { client.publish(message, orLog: logger) }
}
