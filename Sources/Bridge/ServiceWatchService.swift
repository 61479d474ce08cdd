import Foundation
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// Raises an alert when another Phasor service of the site goes offline (its
/// retained will or its goodbye on `…/status/<service>`) and clears it when the
/// service is back: `…/alert/service_<name>` with `{"active": true|false, …}`.
public final class ServiceWatchService: Service, Sendable {
    let client: MQTTClient
    let topics: TopicBuilder
    let logger: Logger
    let clock: any WallClock
    /// Last status seen per service name.
    private let lastStatus = Locked<[String: String]>([:])

    public init(client: MQTTClient, topics: TopicBuilder, logger: Logger, clock: any WallClock = SystemWallClock()) {
        self.client = client
        self.topics = topics
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        let statuses = try await client.subscribe("\(topics.root)/status/+", qos: .atLeastOnce)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await m in statuses { self.handle(m) } }
            group.addTask {
                try? await gracefulShutdown()
                statuses.cancel()
            }
        }
    }

    func handle(_ message: MQTTMessage) {
        guard let service = message.topic.split(separator: "/").last.map(String.init),
            service != ServiceName.bridge.rawValue
        else { return }
        let status = message.string
        guard status == "online" || status == "offline" else {
            logger.warning("unknown service status", metadata: ["topic": "\(message.topic)", "payload": "\(Excerpt.of(status))"])
            return
        }
        let previous = lastStatus.withLock { statuses in
            defer { statuses[service] = status }
            return statuses[service]
        }
        // A retained `online` seen at start needs no alert; any change to offline does,
        // and so does an offline already retained when we start.
        guard previous != status, !(previous == nil && status == "online") else { return }
        let active = status == "offline"
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.value("service_\(service)")
        w.key("active"); w.value(active)
        w.key("severity"); w.value(active ? "critical" : "info")
        w.key("message"); w.value(active ? "\(service) is offline" : "\(service) is back online")
        w.key("time"); w.value(MeterTimestamp(date: clock.now(), utcOffsetSeconds: 0).iso8601)
        w.endObject()
        if active {
            logger.error("service offline", metadata: ["service": "\(service)"])
        } else {
            logger.notice("service back online", metadata: ["service": "\(service)"])
        }
        try? client.publish(MQTTMessage(topic: topics.alert("service_\(service)"), payload: w.bytes, qos: .atLeastOnce,
                                        properties: .init(contentType: "application/json")))
    }
}
