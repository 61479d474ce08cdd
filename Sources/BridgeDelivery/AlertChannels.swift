import BridgeAlerts
import Crypto
import Foundation
import MQTT
import PhasorCore

/// One way out for notifications (webhook, ntfy, e-mail). Throws when the
/// receiver did not take it, so the queue tries again later.
public protocol AlertChannel: Sendable {
    /// Unique among the site's channels: `webhook:<name>`, `ntfy:<name>`, `email:<name>`.
    var name: String { get }
    func deliver(_ notification: AlertNotification) async throws
}

/// A refusal by the receiver (an HTTP status that is not 2xx).
public struct DeliveryFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
}

extension Curl.HTTPResponse {
    /// A 2xx answer, else a `DeliveryFailure` naming the channel and the status.
    func requireSuccess(_ channel: String) throws {
        guard (200..<300).contains(status) else { throw DeliveryFailure(description: "\(channel): HTTP \(status)") }
    }
}

/// Alertmanager's webhook (v4 JSON) with an HMAC-SHA256 signature:
/// `X-Phasor-Signature: t=<unix seconds>,sha256=<hex of HMAC(secret, "<t>." + body)>`
/// (the time inside the signed bytes so a captured request cannot be replayed
/// later), and `X-Phasor-Delivery: <notification id>` for deduplication.
public struct WebhookChannel: AlertChannel {
    public let name: String
    let url: String
    let secret: [UInt8]?
    let caFile: String?
    let timeout: TimeInterval
    let clock: any WallClock

    public init(name: String, url: String, secret: [UInt8]?, caFile: String? = nil, timeout: TimeInterval = 10,
                clock: any WallClock = SystemWallClock()) {
        self.name = name
        self.url = url
        self.secret = secret
        self.caFile = caFile
        self.timeout = timeout
        self.clock = clock
    }

    public static func signature(secret: [UInt8], timestamp: Int, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: secret))
        return "t=\(timestamp),sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    public func deliver(_ n: AlertNotification) async throws {
        let body = AlertFormats.alertmanagerJSON(n, receiver: name)
        var headers = [("Content-Type", "application/json"), ("User-Agent", "phasor-bridge"), ("X-Phasor-Delivery", n.id)]
        if let secret {
            let t = Int(clock.now().timeIntervalSince1970)
            headers.append(("X-Phasor-Signature", Self.signature(secret: secret, timestamp: t, body: body)))
        }
        let response = try await Curl.post(url: url, headers: headers, body: body, timeout: timeout, caFile: caFile)
        try response.requireSuccess(name)
    }
}

/// ntfy: a POST to `<server>/<topic>` with the text as body and Title, Priority, Tags headers.
public struct NtfyChannel: AlertChannel {
    public let name: String
    let url: String
    let token: String?
    let site: String
    let texts: AlertTexts
    let caFile: String?
    let timeout: TimeInterval

    public init(name: String, url: String, token: String?, site: String, texts: AlertTexts, caFile: String? = nil,
                timeout: TimeInterval = 10) {
        self.name = name
        self.url = url
        self.token = token
        self.site = site
        self.texts = texts
        self.caFile = caFile
        self.timeout = timeout
    }

    public func deliver(_ n: AlertNotification) async throws {
        let message = AlertFormats.ntfy(n, site: site, texts: texts)
        // HTTP headers are Latin-1 at best: ntfy decodes RFC 2047 in Title, as e-mail does.
        var headers = message.headers.map { ($0.0, AlertFormats.encodedWord($0.1)) }
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response = try await Curl.post(url: url, headers: headers, body: Array(message.body.utf8), timeout: timeout,
                                           caFile: caFile)
        try response.requireSuccess(name)
    }
}

/// E-mail by SMTP (STARTTLS, TLS or plain to a local relay; AUTH when a user is set).
public struct EmailChannel: AlertChannel {
    public let name: String
    let config: EmailConfig
    let password: String?
    let site: String
    let texts: AlertTexts

    public init(name: String, config: EmailConfig, password: String?, site: String, texts: AlertTexts) {
        self.name = name
        self.config = config
        self.password = password
        self.site = site
        self.texts = texts
    }

    public func deliver(_ n: AlertNotification) async throws {
        let domain = Curl.address(config.from).split(separator: "@").last.map(String.init) ?? "phasor"
        let message = AlertFormats.email(n, site: site, from: config.from, to: config.to, texts: texts,
                                         messageID: "\(n.id).\(name.replacingOccurrences(of: ":", with: "."))@\(domain)")
        let security: Curl.Security = switch config.security ?? .starttls {
        case .starttls: .starttls
        case .tls: .tls
        case .none: .none
        }
        try await Curl.sendMail(server: config.server, security: security, username: config.username, password: password,
                                from: config.from, to: config.to, message: message, timeout: config.timeoutS ?? 20,
                                caFile: config.caFile)
    }
}

/// The alerts on MQTT: `alert/<id>` retained (the state: firing or resolved, with
/// its fingerprint) and each change on `alert/event` (not retained). Immediate,
/// not grouped: MQTT is the box's own bus.
public struct MQTTAlertPublisher: Sendable {
    let client: MQTTClient
    let topics: TopicBuilder

    public init(client: MQTTClient, topics: TopicBuilder) {
        self.client = client
        self.topics = topics
    }

    public func publish(_ alert: Alert) throws {
        let payload = AlertFormats.mqttJSON(alert)
        let properties = MQTTPublishProperties(contentType: "application/json")
        try client.publish(MQTTMessage(topic: topics.alert(alert.id), payload: payload, qos: .atLeastOnce, retain: true,
                                       properties: properties))
        try client.publish(MQTTMessage(topic: topics.alert("event"), payload: payload, qos: .atLeastOnce, retain: false,
                                       properties: properties))
    }
}
