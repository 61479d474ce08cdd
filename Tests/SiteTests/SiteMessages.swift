import Foundation
import MQTT
import PhasorCore
import PhasorTesting

/// Everything the site publishes, kept so the test can wait for a state and read
/// the latest one of each kind.
final class SiteMessages: Sendable {
    let topics: TopicBuilder
    private let messages = Locked<[MQTTMessage]>([])
    private let task: Task<Void, Never>

    init(_ subscription: MQTTSubscription, topics: TopicBuilder) {
        self.topics = topics
        let messages = self.messages
        task = Task {
            for await m in subscription { messages.withLock { $0.append(m) } }
        }
    }

    deinit { task.cancel() }

    func on(_ topic: String) -> [MQTTMessage] { messages.withLock { $0.filter { $0.topic == topic } } }

    /// The gateway's last report of a charge point.
    func chargePointState(_ id: String) -> ChargePointStatePayload? {
        on(topics.chargePointState(id)).last.flatMap { try? ChargePointStatePayload.decode($0.payload) }
    }

    func status(_ service: ServiceName) -> String? { on(topics.status(service)).last?.string }

    func applied(_ id: String) -> [AppliedPayload] {
        on(topics.chargePointApplied(id)).compactMap { try? AppliedPayload.decode($0.payload) }
    }

    /// The meter time of the main meter's reading control last decided on.
    func lastDecidedMeterTime() -> Date? {
        for message in on(topics.controlState).reversed() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any],
                  let meter = object["main_meter"] as? [String: Any], let text = meter["time"] as? String,
                  let time = ISO8601.parse(text)
            else { continue }
            return time.date
        }
        return nil
    }
}

