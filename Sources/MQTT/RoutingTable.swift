import Foundation

/// Options of a subscription (MQTT 5 flags are ignored on 3.1.1).
public struct MQTTSubscribeOptions: Sendable, Hashable {
    public enum RetainHandling: Int32, Sendable, Hashable {
        case sendAlways = 0x00
        case sendIfNewSubscription = 0x10
        case neverSend = 0x20
    }
    public var qos: QoS
    /// Do not receive our own publishes on this filter.
    public var noLocal: Bool
    public var retainAsPublished: Bool
    public var retainHandling: RetainHandling

    public init(qos: QoS = .atLeastOnce, noLocal: Bool = false, retainAsPublished: Bool = false,
                retainHandling: RetainHandling = .sendAlways) {
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
    }

    var v5Flags: Int32 {
        (noLocal ? 0x04 : 0) | (retainAsPublished ? 0x08 : 0) | retainHandling.rawValue
    }
}

/// Local subscribers and the broker subscriptions they need. Several local
/// subscribers may share one broker filter; it is unsubscribed when the last goes.
///
/// On MQTT 5 each broker filter carries a subscription identifier, and a message is
/// routed by the identifiers the broker attaches: mosquitto sends one copy per
/// matching subscription, so routing by topic alone would hand a subscriber of
/// `a/#` a second copy meant for `a/+`. MQTT 3.1.1 has no identifiers; overlapping
/// filters of one client then see a copy per matching filter, as with any 3.1.1 client.
struct RoutingTable {
    struct Route {
        let filter: TopicFilter
        let options: MQTTSubscribeOptions
        let channel: MessageChannel
        /// The filter's subscription identifier, set by `add`: it stays the filter's as
        /// long as any route uses the filter, so a message needs no look-up by name.
        var identifier: UInt32 = 0

        init(filter: TopicFilter, options: MQTTSubscribeOptions, channel: MessageChannel) {
            self.filter = filter
            self.options = options
            self.channel = channel
        }
    }

    struct BrokerSubscription {
        var filter: String
        var qos: QoS
        var flags: Int32
        var identifier: UInt32
    }

    private var routes: [UUID: Route] = [:]
    private var identifiers: [String: UInt32] = [:]
    private var nextIdentifier: UInt32 = 1

    /// Filters to (re)subscribe at the broker, each with the highest QoS asked for.
    var brokerSubscriptions: [BrokerSubscription] {
        var byFilter: [String: BrokerSubscription] = [:]
        for r in routes.values {
            let f = r.filter.filter
            let qos = max(byFilter[f]?.qos ?? .atMostOnce, r.options.qos)
            byFilter[f] = BrokerSubscription(filter: f, qos: qos, flags: r.options.v5Flags, identifier: identifiers[f] ?? 0)
        }
        return Array(byFilter.values)
    }

    func identifier(of filter: TopicFilter) -> UInt32 { identifiers[filter.filter] ?? 0 }

    /// Adds a route; returns whether the broker must be (re)subscribed for its filter
    /// (a new filter, or a higher QoS than before).
    mutating func add(id: UUID, _ route: Route) -> Bool {
        let existing = routes.values.filter { $0.filter == route.filter }.map(\.options.qos).max()
        if identifiers[route.filter.filter] == nil {
            identifiers[route.filter.filter] = nextIdentifier
            nextIdentifier = nextIdentifier >= 268_435_455 ? 1 : nextIdentifier + 1
        }
        var route = route
        route.identifier = identifiers[route.filter.filter] ?? 0
        routes[id] = route
        guard let existing else { return true }
        return route.options.qos > existing
    }

    /// Removes a route; returns its stream (to finish outside the lock) and its
    /// filter if no other route uses it any more.
    mutating func remove(id: UUID) -> (channel: MessageChannel?, unusedFilter: String?) {
        guard let removed = routes.removeValue(forKey: id) else { return (nil, nil) }
        if routes.values.contains(where: { $0.filter == removed.filter }) { return (removed.channel, nil) }
        identifiers.removeValue(forKey: removed.filter.filter)
        return (removed.channel, removed.filter.filter)
    }

    /// The subscribers a message goes to: by subscription identifiers when the broker
    /// sent any, else by matching the topic against each filter.
    func matching(_ topic: String, subscriptionIdentifiers ids: [UInt32]) -> [MessageChannel] {
        if !ids.isEmpty {
            return routes.values.compactMap { r in ids.contains(r.identifier) ? r.channel : nil }
        }
        return routes.values.compactMap { $0.filter.matches(topic) ? $0.channel : nil }
    }

    /// Removes every route of `filter` (the broker refused it); returns their streams.
    mutating func removeAll(filter: String) -> [MessageChannel] {
        let ids = routes.filter { $0.value.filter.filter == filter }.map(\.key)
        identifiers.removeValue(forKey: filter)
        return ids.compactMap { routes.removeValue(forKey: $0)?.channel }
    }

    mutating func removeAll() -> [MessageChannel] {
        defer { routes.removeAll() }
        return routes.values.map(\.channel)
    }
}
