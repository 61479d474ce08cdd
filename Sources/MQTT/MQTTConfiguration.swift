/// Protocol level spoken to the broker.
public enum MQTTProtocolVersion: String, Sendable, Hashable, Codable, CaseIterable {
    case v311 = "3.1.1"
    case v5 = "5"
}

/// TLS settings. Either a CA file (or the system's CAs) verifies the broker;
/// `insecureSkipVerification` turns all checks off and exists for tests only.
public struct MQTTTLSConfiguration: Sendable, Hashable {
    public var caFile: String?
    public var certificateFile: String?
    public var privateKeyFile: String?
    /// Skip certificate and hostname verification. Never use against a real broker.
    public var insecureSkipVerification: Bool

    public init(caFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil,
                insecureSkipVerification: Bool = false) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.insecureSkipVerification = insecureSkipVerification
    }
}

/// Capped exponential backoff between connection attempts, with jitter so a
/// fleet of gateways does not reconnect in lock-step after a broker restart.
public struct MQTTReconnectPolicy: Sendable, Hashable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var multiplier: Double
    /// Fraction of the delay randomised (0.2 → ±20 %).
    public var jitter: Double

    public init(initialDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(30),
                multiplier: Double = 2, jitter: Double = 0.2) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before attempt `attempt` (0-based) without jitter.
    public func baseDelay(attempt: Int) -> Duration {
        let seconds = initialDelay.seconds * pow2(multiplier, attempt)
        return .seconds(min(seconds, maximumDelay.seconds))
    }

    private func pow2(_ m: Double, _ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<min(n, 64) { r *= m; if r > 1e9 { break } }
        return r
    }
}

/// What happens to messages published while the broker is unreachable.
public struct MQTTOfflineQueuePolicy: Sendable, Hashable {
    public enum WhenFull: String, Sendable, Hashable, Codable, CaseIterable {
        /// Drop the oldest queued message to make room (telemetry: the newest matters most).
        case dropOldest = "drop_oldest"
        /// Refuse the new message with `MQTTError.offlineQueueFull`.
        case rejectNew = "reject_new"
    }
    /// Messages held at most; 0 disables queueing (publishes while offline fail).
    public var capacity: Int
    public var whenFull: WhenFull

    public init(capacity: Int = 10_000, whenFull: WhenFull = .dropOldest) {
        self.capacity = capacity
        self.whenFull = whenFull
    }
}

/// Receives messages so that none is lost to a crash: libmosquitto queues the PUBACK
/// of a QoS 1 message before its callback runs, and writes it to the socket only on the
/// loop's next write. With a durable receiver the loop reads what arrived, hands the
/// whole batch to `store` and writes the acknowledgements only after `store`
/// returned `true` (group commit: one storage commit covers a burst). If `store`
/// returns `false` (storage full, say) the connection is dropped without
/// acknowledging, and the broker delivers the messages again to the persistent
/// session. Use with `cleanSession: false`, QoS 1 subscriptions and a fixed client id.
/// Messages go only to `store`, not to subscription streams.
public struct MQTTDurableReceiver: Sendable {
    public let store: @Sendable ([MQTTMessage]) -> Bool
    public init(store: @escaping @Sendable ([MQTTMessage]) -> Bool) { self.store = store }
}

public struct MQTTConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var clientID: String
    public var protocolVersion: MQTTProtocolVersion
    public var username: String?
    public var password: String?
    public var tls: MQTTTLSConfiguration?
    public var keepAlive: Int
    /// `true`: start a fresh session. `false`: resume the broker's stored session
    /// (subscriptions and QoS ≥ 1 messages queued while away).
    public var cleanSession: Bool
    /// MQTT 5: how long the broker keeps a non-clean session after disconnect (seconds).
    /// MQTT 3.1.1 keeps it forever.
    public var sessionExpiryInterval: UInt32
    /// Published by the broker if the connection drops without a DISCONNECT.
    public var will: MQTTMessage?
    /// Published after every successful (re)connect, e.g. a retained `online`.
    public var birth: MQTTMessage?
    public var reconnect: MQTTReconnectPolicy
    public var offlineQueue: MQTTOfflineQueuePolicy
    /// QoS ≥ 1 messages in flight at once (0 = unlimited, which slows libmosquitto down).
    public var maxInflight: Int
    /// Incoming QoS ≥ 1 messages we accept in flight. High by default: mosquitto 2.0.11
    /// sends QoS 2 bursts beyond a small receive maximum, and libmosquitto then drops
    /// the connection as a protocol error.
    public var receiveMaximum: Int = 65_535
    /// When set, received messages are stored before they are acknowledged (see
    /// `MQTTDurableReceiver`).
    public var durableReceiver: MQTTDurableReceiver?

    public init(
        host: String = "127.0.0.1", port: Int? = nil, clientID: String, protocolVersion: MQTTProtocolVersion = .v5,
        username: String? = nil, password: String? = nil, tls: MQTTTLSConfiguration? = nil, keepAlive: Int = 30,
        cleanSession: Bool = true, sessionExpiryInterval: UInt32 = 3600, will: MQTTMessage? = nil,
        birth: MQTTMessage? = nil, reconnect: MQTTReconnectPolicy = MQTTReconnectPolicy(),
        offlineQueue: MQTTOfflineQueuePolicy = MQTTOfflineQueuePolicy(), maxInflight: Int = 100
    ) {
        self.host = host
        self.port = port ?? (tls == nil ? 1883 : 8883)
        self.clientID = clientID
        self.protocolVersion = protocolVersion
        self.username = username
        self.password = password
        self.tls = tls
        self.keepAlive = keepAlive
        self.cleanSession = cleanSession
        self.sessionExpiryInterval = sessionExpiryInterval
        self.will = will
        self.birth = birth
        self.reconnect = reconnect
        self.offlineQueue = offlineQueue
        self.maxInflight = maxInflight
    }
}

/// A broker address as users write it: `mqtt://host:1883`, `mqtts://host` (TLS,
/// port 8883 by default), `tcp://` and `ssl://` as aliases, or a bare `host[:port]`.
public struct MQTTBrokerURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var usesTLS: Bool

    public init(host: String, port: Int, usesTLS: Bool) {
        self.host = host
        self.port = port
        self.usesTLS = usesTLS
    }

    public init(parsing text: String) throws(MQTTError) {
        var rest = Substring(text)
        var tls = false
        if let range = rest.range(of: "://") {
            let scheme = rest[..<range.lowerBound].lowercased()
            switch scheme {
            case "mqtt", "tcp": tls = false
            case "mqtts", "ssl", "tls": tls = true
            default: throw .invalidConfiguration("broker URL '\(text)': unknown scheme '\(scheme)' (use mqtt:// or mqtts://)")
            }
            rest = rest[range.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var host = String(rest)
        var port = tls ? 8883 : 1883
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {  // [::1]:1883
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw .invalidConfiguration("broker URL '\(text)': bad port")
                }
                port = p
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]), (1...65535).contains(p) else {
                throw .invalidConfiguration("broker URL '\(text)': bad port")
            }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw .invalidConfiguration("broker URL '\(text)': no host") }
        self.init(host: host, port: port, usesTLS: tls)
    }

    public var description: String { "\(usesTLS ? "mqtts" : "mqtt")://\(host):\(port)" }
}

extension Duration {
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
