/// Counters a service publishes and logs about its MQTT session.
public struct MQTTStatistics: Sendable, Hashable {
    /// Messages handed to libmosquitto.
    public var published: UInt64 = 0
    /// QoS ≥ 1 messages the broker acknowledged (PUBACK / PUBCOMP).
    public var acknowledged: UInt64 = 0
    /// Messages waiting in the offline queue now.
    public var queuedOffline: Int = 0
    /// Messages dropped or refused because the offline queue was full (total).
    public var droppedOffline: UInt64 = 0
    public var received: UInt64 = 0
    /// Messages received that matched no local subscription.
    public var unrouted: UInt64 = 0
    /// Successful connections (the first included).
    public var connections: UInt64 = 0
    /// Failed connection attempts and lost connections.
    public var connectionFailures: UInt64 = 0
    public var lastError: String?
}

/// What the connection is doing, reported as it changes.
public enum MQTTConnectionEvent: Sendable, Equatable {
    case connected(sessionPresent: Bool)
    case disconnected(reason: String)
    case connectFailed(MQTTError)
}
