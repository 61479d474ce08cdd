import Foundation
import MQTT
import PhasorCore

/// Publishes readings the way every consumer expects them: one retained JSON
/// state per reading (atomic: all quantities, one timestamp) and one retained
/// topic per quantity for home-automation stacks.
public struct ReadingPublisher: Sendable {
    public let client: MQTTClient
    public let topics: TopicBuilder
    /// Told of every reading, so Home Assistant learns each meter's quantities (nil: discovery off).
    public let discovery: GatewayDiscovery?

    /// The box's clock, stamped on every state as `received` (the meter's own clock may be off).
    public let clock: @Sendable () -> Date

    public init(
        client: MQTTClient, topics: TopicBuilder, discovery: GatewayDiscovery? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        self.topics = topics
        self.discovery = discovery
        self.clock = clock
    }

    public func publish(_ reading: Reading) throws {
        try publishState(reading)
        for (quantity, value) in reading.values { try publishQuantity(reading.device, quantity, value) }
    }

    /// The atomic JSON state: every quantity of the reading, one timestamp.
    public func publishState(_ reading: Reading) throws {
        discovery?.observe(reading)
        let json = MQTTPublishProperties(contentType: "application/json")
        try client.publish(MQTTMessage(
            topic: topics.meterState(reading.device), payload: ReadingPayload.encode(reading, received: clock()), qos: .atLeastOnce,
            retain: true, properties: json))
    }

    /// One per-quantity topic: a plain value, retained.
    public func publishQuantity(_ device: String, _ quantity: Quantity, _ value: MeasuredValue) throws {
        try client.publish(MQTTMessage(
            topic: topics.meterQuantity(device, quantity), payload: ReadingPayload.encodeValue(value),
            qos: .atMostOnce, retain: true))
    }
}
