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
    /// control state (thinnable), energy registers per quantity topic, relay state,
    /// command replies and errors, alerts and events. First match wins.
    public static let defaults: [ForwardRule] = {
        var rules: [ForwardRule] = []
        for q in Quantity.catalog.keys.map(\.rawValue).sorted() where q.contains("energy") || q.hasSuffix("_volume") {
            rules.append(ForwardRule("meter/+/\(q)", .energy))
        }
        rules += [
            ForwardRule("meter/+/state", .instantaneous),
            ForwardRule("chargepoint/+/state", .instantaneous),
            ForwardRule("chargepoint/+/applied", .commandResult),
            ForwardRule("relay/+/state", .event),
            ForwardRule("control/state", .instantaneous),
            ForwardRule("error/+", .commandResult),
            ForwardRule("alert/+", .alert),
            ForwardRule("event/#", .event),
        ]
        return rules
    }()
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
