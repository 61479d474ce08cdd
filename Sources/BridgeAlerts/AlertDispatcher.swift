import Foundation

/// Alerts gathered for one send, as Alertmanager's notification of a group.
public struct AlertNotification: Sendable, Hashable, Codable {
    /// Stable per send: group key and the send's number, so a receiver (or the
    /// queue) can drop a copy delivered twice.
    public var id: String
    public var groupKey: String
    public var groupLabels: [String: String]
    /// `firing` while any alert of the group fires.
    public var status: AlertStatus
    public var alerts: [Alert]
    public var time: Date

    public var firing: [Alert] { alerts.filter { $0.status == .firing } }
    public var resolved: [Alert] { alerts.filter { $0.status == .resolved } }

    /// Labels every alert shares.
    public var commonLabels: [String: String] { Self.common(alerts.map(\.labels)) }
    public var commonAnnotations: [String: String] { Self.common(alerts.map(\.annotations)) }

    static func common(_ maps: [[String: String]]) -> [String: String] {
        guard var result = maps.first else { return [:] }
        for map in maps.dropFirst() { result = result.filter { map[$0.key] == $0.value } }
        return result
    }

    /// The highest severity among the firing alerts (or all, once resolved).
    public var severity: AlertSeverity {
        (firing.isEmpty ? alerts : firing).map(\.severity).max() ?? .info
    }
}

/// Grouping, waiting and repeating as Alertmanager's route does it, on injected
/// time: alerts with the same `group_by` labels go out together; a new group waits
/// `group_wait` for its companions, a changed group is sent at most every
/// `group_interval`, an unchanged firing group again after `repeat_interval`.
/// Resolved alerts go out once (`send_resolved`) and leave their group.
public struct AlertDispatcher: Sendable {
    public struct Route: Sendable, Hashable {
        public var groupBy: [String]
        public var groupWait: TimeInterval
        public var groupInterval: TimeInterval
        public var repeatInterval: TimeInterval
        public var sendResolved: Bool

        /// Alertmanager's defaults: group by `alertname`, 30 s, 5 min, 4 h.
        public init(groupBy: [String] = ["alertname"], groupWait: TimeInterval = 30, groupInterval: TimeInterval = 300,
                    repeatInterval: TimeInterval = 4 * 3600, sendResolved: Bool = true) {
            self.groupBy = groupBy
            self.groupWait = groupWait
            self.groupInterval = groupInterval
            self.repeatInterval = repeatInterval
            self.sendResolved = sendResolved
        }

        public init(_ c: RouteConfig?) {
            let d = Route()
            self.init(groupBy: c?.groupBy ?? d.groupBy, groupWait: c?.groupWaitS ?? d.groupWait,
                      groupInterval: c?.groupIntervalS ?? d.groupInterval, repeatInterval: c?.repeatIntervalS ?? d.repeatInterval,
                      sendResolved: c?.sendResolved ?? d.sendResolved)
        }
    }

    struct Group: Sendable {
        var labels: [String: String]
        var alerts: [String: Alert] = [:]
        var nextFlush: Date
        var lastSent: Date?
        /// Fingerprint and status of what was last sent.
        var sentState: Set<String> = []
        var sends = 0
    }

    public let route: Route
    var groups: [String: Group] = [:]

    public init(route: Route) { self.route = route }

    /// A firing or resolved alert from the engine.
    public mutating func add(_ alert: Alert, at now: Date) {
        let labels = route.groupBy.reduce(into: [String: String]()) { $0[$1] = alert.labels[$1] }
        let key = Self.groupKey(labels)
        var group = groups[key] ?? Group(labels: labels, nextFlush: now + route.groupWait)
        if alert.status == .resolved, group.alerts[alert.fingerprint] == nil { return }
        group.alerts[alert.fingerprint] = alert
        groups[key] = group
    }

    /// The notifications due at `now`.
    public mutating func tick(at now: Date) -> [AlertNotification] {
        var out: [AlertNotification] = []
        for key in groups.keys.sorted() {
            guard var group = groups[key], now >= group.nextFlush else { continue }
            group.nextFlush = now + route.groupInterval
            let visible = group.alerts.values.filter { $0.status == .firing || route.sendResolved }
                .sorted { ($0.startsAt, $0.id, $0.fingerprint) < ($1.startsAt, $1.id, $1.fingerprint) }
            let state = Set(visible.map { "\($0.fingerprint)/\($0.status.rawValue)" })
            let anyFiring = visible.contains { $0.status == .firing }
            let changed = state != group.sentState
            let repeatDue = group.lastSent.map { now.timeIntervalSince($0) >= route.repeatInterval } ?? true
            // A group whose alerts resolved before it was ever sent has nothing to say.
            let worthSending = !visible.isEmpty && (anyFiring || group.lastSent != nil)
            if worthSending && (changed || (anyFiring && repeatDue)) {
                group.sends += 1
                out.append(AlertNotification(
                    id: "\(Alert.fingerprint(of: group.labels))-\(Int(now.timeIntervalSince1970))-\(group.sends)",
                    groupKey: key, groupLabels: group.labels, status: anyFiring ? .firing : .resolved,
                    alerts: visible, time: now))
                group.lastSent = now
                group.sentState = state.filter { $0.hasSuffix("/firing") }
            }
            group.alerts = group.alerts.filter { $0.value.status == .firing }
            groups[key] = group.alerts.isEmpty ? nil : group
        }
        return out
    }

    static func groupKey(_ labels: [String: String]) -> String {
        "{}:{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }
}
