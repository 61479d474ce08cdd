import MQTT
import PhasorCore

/// One line of the bridge's `forward:` list: local topics (relative to
/// `<prefix>/<site>/`, `+` and `#` allowed) and the class their messages get.
public struct ForwardRule: Sendable, Hashable, Decodable {
    public var topic: String
    public var `class`: MessageClass

    public init(_ topic: String, _ messageClass: MessageClass) {
        self.topic = topic
        self.class = messageClass
    }

    /// What is forwarded when the site file says nothing: meter, charge point and
    /// control state (instantaneous: thinnable, but each stream's last state of every
    /// quarter-hour is kept, and a meter's state carries all its energy registers),
    /// relay state, command replies and errors, alerts and events. First match wins.
    /// Only topics the services publish at QoS 1: a QoS 0 message published while the
    /// bridge is down is not queued for it by the broker (the per-quantity topics
    /// `meter/<id>/<quantity>` are QoS 0; add them with a rule if wanted).
    public static let defaults: [ForwardRule] = [
        ForwardRule("meter/+/state", .instantaneous),
        ForwardRule("chargepoint/+/state", .instantaneous),
        ForwardRule("chargepoint/+/applied", .commandResult),
        ForwardRule("relay/+/state", .event),
        ForwardRule("relay/+/applied", .commandResult),
        ForwardRule("inverter/+/applied", .commandResult),
        ForwardRule("control/state", .instantaneous),
        ForwardRule("error/+", .commandResult),
        ForwardRule("alert/+", .alert),
        ForwardRule("event/#", .event),
    ]

    /// A rule per energy register and volume quantity of the catalogue
    /// (`meter/+/energy_import`, …), class `energy`, for sites that forward the
    /// per-quantity topics too.
    public static let energyQuantities: [ForwardRule] = Quantity.catalog.keys.map(\.rawValue).sorted()
        .filter { $0.contains("energy") || $0.hasSuffix("_volume") }
        .map { ForwardRule("meter/+/\($0)", .energy) }
}

/// Maps a local topic to its stream (the topic below `<prefix>/<site>/`) and class.
public struct StreamClassifier: Sendable {
    public let root: String
    let rules: [(filter: TopicFilter, rule: ForwardRule)]

    public init(root: String, rules: [ForwardRule]) throws {
        self.root = root
        self.rules = try rules.map { (try TopicFilter("\(root)/\($0.topic)"), $0) }
    }

    /// The local subscription filters, one per rule.
    public var filters: [String] { rules.map(\.filter.filter) }

    /// The stream and class of a local message, or nil if no rule forwards it.
    public func classify(topic: String) -> (stream: String, class: MessageClass)? {
        guard topic.hasPrefix(root + "/"), let match = rules.first(where: { $0.filter.matches(topic) }) else { return nil }
        return (String(topic.dropFirst(root.count + 1)), match.rule.class)
    }
}
