import Foundation
import MQTT
import PhasorCore

/// The commands the cloud may send, each to one family of local `…/set` topics.
public enum CommandKind: String, Decodable, Sendable, CaseIterable {
    /// `control/slider/set`
    case slider
    /// `control/chargepoint/<id>/mode/set`
    case mode
    /// `control/chargepoint/<id>/current/set` (manual current)
    case current
    /// `control/chargepoint/<id>/priority/set`
    case priority
    /// `relay/<id>/command`
    case relay

    /// The local topic (below `<prefix>/<site>/`) for this command, or nil when it needs
    /// an id and none (or a bad one) was given.
    public func localTopic(target: String?) -> String? {
        if self == .slider { return "control/slider/set" }
        guard let target, CommonIDCheck.isTopicLevel(target) else { return nil }
        switch self {
        case .slider: return nil
        case .mode: return "control/chargepoint/\(target)/mode/set"
        case .current: return "control/chargepoint/\(target)/current/set"
        case .priority: return "control/chargepoint/\(target)/priority/set"
        case .relay: return "relay/\(target)/command"
        }
    }
}

enum CommonIDCheck {
    static func isTopicLevel(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
    }
}

/// A command from the cloud (schemas/cloud-command.schema.json):
/// `{"id": "…", "command": "slider", "target": "cp1", "value": 4.5, "issued": "…Z", "expiry_s": 30}`.
public struct CloudCommand: Sendable, Hashable {
    public var id: String
    public var kind: CommandKind
    public var target: String?
    /// The value as JSON text, passed on to the local topic as `{"value": …}`.
    public var valueJSON: String
    public var issued: Date
    public var expiry: TimeInterval?
}

/// Why a command was refused; `reason` is what the result says.
public struct CommandRefusal: Error, Sendable, Hashable {
    public var field: String
    public var reason: String
    public init(_ field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// The checks a command passes before it reaches the site, in order: not retained,
/// well formed, allowed, not expired, not seen before. Pure: the caller supplies
/// the clock reading and whether the id was seen.
public struct CommandPolicy: Sendable {
    public var allowed: Set<CommandKind>
    public var maxAge: TimeInterval

    public init(allowed: Set<CommandKind> = Set(CommandKind.allCases), maxAge: TimeInterval = 60) {
        self.allowed = allowed
        self.maxAge = maxAge
    }

    public init(section: CommandsSection?) {
        self.init(allowed: Set(section?.allow ?? CommandKind.allCases), maxAge: TimeInterval(section?.maxAgeS ?? 60))
    }

    /// Parses and checks `message`; `seen(id)` says whether a command id was already taken.
    public func check(_ message: MQTTMessage, now: Date, seen: (String) -> Bool) -> Result<CloudCommand, CommandRefusal> {
        if message.retain { return .failure(.init("retain", "commands are never retained; clear the retained message")) }
        let command: CloudCommand
        switch Self.parse(message.payload) {
        case .success(let c): command = c
        case .failure(let r): return .failure(r)
        }
        guard allowed.contains(command.kind) else {
            return .failure(.init("command", "'\(command.kind.rawValue)' is not allowed on this site"))
        }
        let expiry = min(command.expiry ?? maxAge, maxAge)
        if message.properties.messageExpiryInterval == 0 || now.timeIntervalSince(command.issued) > expiry {
            return .failure(.init("issued", "expired: issued \(ISO8601.format(command.issued, utcOffsetSeconds: 0)), valid \(Int(expiry)) s"))
        }
        if command.issued.timeIntervalSince(now) > 300 {
            return .failure(.init("issued", "issued in the future (clocks out of step?)"))
        }
        if seen(command.id) { return .failure(.init("id", "replayed: command '\(command.id)' was already taken")) }
        return .success(command)
    }

    static func parse(_ payload: [UInt8]) -> Result<CloudCommand, CommandRefusal> {
        guard payload.count <= 4096 else { return .failure(.init("payload", "larger than 4096 bytes")) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] else {
            return .failure(.init("payload", "not a JSON object"))
        }
        guard let id = object["id"] as? String, !id.isEmpty, id.utf8.count <= 128 else {
            return .failure(.init("id", "missing: a unique command id (1…128 characters) is required"))
        }
        guard let name = object["command"] as? String else { return .failure(.init("command", "missing")) }
        guard let kind = CommandKind(rawValue: name) else {
            return .failure(.init("command", "'\(Excerpt.of(name))' is not a command (use \(CommandKind.allCases.map(\.rawValue).joined(separator: ", ")))"))
        }
        let target = object["target"] as? String
        guard kind.localTopic(target: target) != nil else {
            return .failure(.init("target", "'\(kind.rawValue)' needs the id of its charge point or relay"))
        }
        guard let value = object["value"], !(value is NSNull),
            let valueData = try? JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed)
        else { return .failure(.init("value", "missing")) }
        guard let issuedText = object["issued"] as? String, let issued = ISO8601.parse(issuedText)?.date else {
            return .failure(.init("issued", "missing or not ISO 8601 with an offset"))
        }
        var expiry: TimeInterval?
        if let e = object["expiry_s"] {
            guard let n = e as? NSNumber, n.doubleValue > 0 else { return .failure(.init("expiry_s", "use seconds > 0")) }
            expiry = n.doubleValue
        }
        return .success(CloudCommand(id: id, kind: kind, target: target, valueJSON: String(decoding: valueData, as: UTF8.self),
                                     issued: issued, expiry: expiry))
    }

    /// The local message a command becomes: `{"value": …}` (`{"on": …}` for a relay), QoS 1, never retained.
    public static func localMessage(_ command: CloudCommand, root: String) -> MQTTMessage {
        let topic = "\(root)/\(command.kind.localTopic(target: command.target) ?? "")"
        // Relays take `{"on": …}`, control's `…/set` topics `{"value": …}` (docs/topics.md).
        let key = command.kind == .relay ? "on" : "value"
        return MQTTMessage(topic: topic, string: "{\"\(key)\":\(command.valueJSON)}", qos: .atLeastOnce, retain: false,
                           properties: MQTTPublishProperties(contentType: "application/json"))
    }

    /// The result sent back: `{"id", "status": "accepted"|"refused", "field", "reason", "time"}`.
    public static func result(id: String?, refusal: CommandRefusal?, at time: Date) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.optional(id)
        w.key("status"); w.value(refusal == nil ? "accepted" : "refused")
        if let refusal {
            w.key("field"); w.value(refusal.field)
            w.key("reason"); w.value(refusal.reason)
        }
        w.key("time"); w.value(ISO8601.format(time, utcOffsetSeconds: 0))
        w.endObject()
        return w.bytes
    }
}
