import Foundation

public enum AlertStatus: String, Sendable, Hashable, Codable {
    case firing, resolved
}

/// One alert as Alertmanager knows it: labels name it (their hash is its
/// fingerprint, stable across restarts), annotations describe it.
public struct Alert: Sendable, Hashable, Codable {
    /// `alertname`, `severity`, `site`, and `device` when it concerns one.
    public var labels: [String: String]
    /// `summary` (one line in the site's language).
    public var annotations: [String: String]
    public var status: AlertStatus
    public var startsAt: Date
    /// When it resolved; nil while firing.
    public var endsAt: Date?

    public init(labels: [String: String], annotations: [String: String], status: AlertStatus, startsAt: Date, endsAt: Date? = nil) {
        self.labels = labels
        self.annotations = annotations
        self.status = status
        self.startsAt = startsAt
        self.endsAt = endsAt
    }

    public var name: String { labels["alertname"] ?? "" }
    public var device: String? { labels["device"] }
    public var severity: AlertSeverity { labels["severity"].flatMap(AlertSeverity.init(rawValue:)) ?? .warning }
    public var summary: String { annotations["summary"] ?? name }

    /// The alert's MQTT id (`alert/<id>`): its name, and its device when it has one.
    public var id: String { device.map { "\(name)_\($0)" } ?? name }

    /// 16 hex digits: FNV-1a (64 bit) over the labels sorted by name, each
    /// `name 0xFF value 0xFF` as Prometheus hashes label sets. The severity is left out,
    /// so an alert whose severity a rule changes keeps its identity.
    public var fingerprint: String { Self.fingerprint(of: labels) }

    public static func fingerprint(of labels: [String: String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (name, value) in labels.sorted(by: { $0.key < $1.key }) where name != "severity" {
            for byte in Array(name.utf8) + [0xFF] + Array(value.utf8) + [0xFF] {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// What the engine decided: an alert that started firing or resolved.
public struct AlertTransition: Sendable, Hashable {
    public var alert: Alert
    public init(_ alert: Alert) { self.alert = alert }
}
