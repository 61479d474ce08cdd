import MQTT
import PhasorCore

/// Publishes readings the way every consumer expects them: one retained JSON
/// state per reading (atomic: all quantities, one timestamp) and one retained
/// topic per quantity for home-automation stacks.
public struct ReadingPublisher: Sendable {
    public let client: MQTTClient
    public let topics: TopicBuilder

    public init(client: MQTTClient, topics: TopicBuilder) {
        self.client = client
        self.topics = topics
    }

    public func publish(_ reading: Reading) throws {
        let json = MQTTPublishProperties(contentType: "application/json")
        try client.publish(MQTTMessage(
            topic: topics.meterState(reading.device), payload: ReadingPayload.encode(reading), qos: .atLeastOnce,
            retain: true, properties: json))
        for (quantity, value) in reading.values {
            try client.publish(MQTTMessage(
                topic: topics.meterQuantity(reading.device, quantity), payload: ReadingPayload.encodeValue(value),
                qos: .atMostOnce, retain: true))
        }
    }
}
