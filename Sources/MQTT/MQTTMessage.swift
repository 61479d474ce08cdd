/// Quality of service of a publish or a subscription.
public enum QoS: Int32, Sendable, Hashable, Codable, Comparable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2
    public static func < (a: QoS, b: QoS) -> Bool { a.rawValue < b.rawValue }
}

/// An MQTT 5 user property (a name/value pair; names may repeat).
public struct MQTTUserProperty: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The MQTT 5 publish properties a caller needs. Ignored (not sent) on MQTT 3.1.1.
public struct MQTTPublishProperties: Sendable, Hashable {
    /// Seconds after which the broker discards the message if undelivered.
    public var messageExpiryInterval: UInt32?
    /// MIME type of the payload, e.g. `application/json`.
    public var contentType: String?
    /// Request/reply: where the responder should publish its answer.
    public var responseTopic: String?
    /// Request/reply: opaque bytes the responder copies into its answer.
    public var correlationData: [UInt8]?
    /// `true` when the payload is UTF-8 text (payload format indicator 1).
    public var payloadIsUTF8: Bool?
    public var userProperties: [MQTTUserProperty]

    public init(
        messageExpiryInterval: UInt32? = nil, contentType: String? = nil, responseTopic: String? = nil,
        correlationData: [UInt8]? = nil, payloadIsUTF8: Bool? = nil, userProperties: [MQTTUserProperty] = []
    ) {
        self.messageExpiryInterval = messageExpiryInterval
        self.contentType = contentType
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.payloadIsUTF8 = payloadIsUTF8
        self.userProperties = userProperties
    }

    public var isEmpty: Bool {
        messageExpiryInterval == nil && contentType == nil && responseTopic == nil && correlationData == nil
            && payloadIsUTF8 == nil && userProperties.isEmpty
    }
}

/// A message, outgoing or received.
public struct MQTTMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool
    public var properties: MQTTPublishProperties

    public init(
        topic: String, payload: [UInt8], qos: QoS = .atMostOnce, retain: Bool = false,
        properties: MQTTPublishProperties = MQTTPublishProperties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }

    public init(
        topic: String, string: String, qos: QoS = .atMostOnce, retain: Bool = false,
        properties: MQTTPublishProperties = MQTTPublishProperties()
    ) {
        self.init(topic: topic, payload: Array(string.utf8), qos: qos, retain: retain, properties: properties)
    }

    /// The payload decoded as UTF-8 (lossy: invalid bytes become U+FFFD).
    public var string: String { String(decoding: payload, as: UTF8.self) }
}
