import Foundation
import PhasorCore

/// The alert rules of a site, evaluated on injected time: feed it the messages of
/// the site's topics (`observe`) and the passing of time (`tick`); it answers with
/// the alerts that started firing or resolved. Pure: no MQTT, no clock of its own.
public struct AlertEngine: Sendable {
    public let site: String
    public let texts: AlertTexts
    let rules: [CompiledRule]
    let events: BuiltInEvents
    let exclude: Set<String>
    let timeZone: TimeZone
    let startedAt: Date
    /// Per rule and concrete topic.
    var instances: [InstanceKey: Instance] = [:]
    /// What fires now, by fingerprint.
    public private(set) var active: [String: Alert] = [:]
    /// Alerts a previous run left firing (their retained MQTT state), by fingerprint:
    /// taken over when a rule or event fires them again (same fingerprint, same start,
    /// no new notification), resolved when their event says so, or after `restoreGrace`
    /// if nothing claims them — so a condition that ended while the bridge was down
    /// does not stay "firing" for ever.
    var restored: [String: Alert] = [:]
    let restoreGrace: TimeInterval

    struct InstanceKey: Hashable, Sendable {
        var rule: Int
        var topic: String
    }

    struct Instance: Sendable {
        var value: Double?
        /// For `daily_max`: the local day the value's maximum belongs to.
        var day: DateComponents?
        var lastSeen: Date
        var pendingSince: Date?
        var clearingSince: Date?
        var threshold: Alert?
        var noData: Alert?
    }

    public init(site: String, section: AlertsSection?, startedAt: Date) throws(AlertRuleError) {
        self.site = site
        texts = AlertTexts(section?.language ?? .en)
        rules = try (section?.rules ?? []).enumerated().map { i, r throws(AlertRuleError) in try CompiledRule(r, index: i) }
        events = BuiltInEvents(section?.events)
        exclude = Set(section?.exclude ?? [])
        timeZone = section?.timeZone.flatMap(TimeZone.init(identifier:)) ?? .current
        self.startedAt = startedAt
        let slowest = rules.map { max($0.raiseAfter, $0.noDataAfter ?? 0) }.max() ?? 0
        restoreGrace = max(60, slowest + 5)
        // Concrete topics are watched from the start, so a stream that never speaks is "no data" too.
        for (i, rule) in rules.enumerated() where !rule.pattern.hasWildcard {
            instances[InstanceKey(rule: i, topic: rule.config.topic)] = Instance(lastSeen: startedAt)
        }
    }

    /// The topic filters (under the site's root) the engine needs.
    public var subscriptions: [String] {
        var filters = rules.map { $0.config.topic }
        filters += events.filters
        var seen = Set<String>()
        return filters.filter { seen.insert($0).inserted }
    }

    // MARK: input

    /// One message on `topic` (under the site's root: `meter/main/power_import`).
    public mutating func observe(topic: String, payload: [UInt8], at now: Date) -> [AlertTransition] {
        guard !payload.isEmpty else { return [] }  // a retained message being cleared
        var out: [AlertTransition] = []
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for (i, rule) in rules.enumerated() where rule.pattern.matches(levels) {
            let key = InstanceKey(rule: i, topic: topic)
            var instance = instances[key] ?? Instance(lastSeen: now)
            instance.lastSeen = now
            if let value = rule.value(of: payload) {
                if rule.config.dailyMax == true {
                    let day = Self.day(of: now, in: timeZone)
                    instance.value = instance.day == day ? max(instance.value ?? value, value) : value
                    instance.day = day
                } else {
                    instance.value = value
                }
            }
            if let alert = instance.noData {
                instance.noData = nil
                out += resolve(alert, at: now)
            }
            out += evaluate(rule, topic: topic, &instance, now: now)
            instances[key] = instance
        }
        out += builtIn(levels: levels, payload: payload, at: now)
        return out
    }

    /// An alert a previous run left firing (see `restored`); resolved ones are ignored.
    public mutating func restore(_ alert: Alert) {
        guard alert.status == .firing, active[alert.fingerprint] == nil else { return }
        restored[alert.fingerprint] = alert
    }

    /// Time passed: raise and clear delays, no data, windows.
    public mutating func tick(at now: Date) -> [AlertTransition] {
        var out: [AlertTransition] = []
        if !restored.isEmpty, now.timeIntervalSince(startedAt) >= restoreGrace {
            for alert in restored.values.sorted(by: { $0.id < $1.id }) {
                active[alert.fingerprint] = alert
                out += resolve(alert, at: now)
            }
            restored = [:]
        }
        for key in instances.keys.sorted(by: { ($0.rule, $0.topic) < ($1.rule, $1.topic) }) {
            guard var instance = instances[key] else { continue }
            out += evaluate(rules[key.rule], topic: key.topic, &instance, now: now)
            instances[key] = instance
        }
        return out
    }

    /// An event known by another part of the bridge (a service offline, the licence,
    /// the outbox): fires or resolves the alert `name` (with `device`, if any).
    public mutating func event(_ name: String, device: String? = nil, active isActive: Bool, severity: AlertSeverity,
                               summary: String, at now: Date) -> [AlertTransition] {
        let labels = labels(name: name, device: device, severity: severity)
        let fingerprint = Alert.fingerprint(of: labels)
        if isActive {
            guard active[fingerprint] == nil else { return [] }
            if let device, exclude.contains(device) { return [] }
            return fire(labels: labels, summary: summary, at: now)
        }
        guard let alert = active[fingerprint] ?? restored.removeValue(forKey: fingerprint) else { return [] }
        active[fingerprint] = alert
        return resolve(alert, at: now)
    }

    // MARK: rules

    private mutating func evaluate(_ rule: CompiledRule, topic: String, _ instance: inout Instance, now: Date) -> [AlertTransition] {
        var out: [AlertTransition] = []
        let open = rule.window?.contains(now, in: timeZone) ?? true
        let device = Self.device(of: topic)
        let excluded = device.map(exclude.contains) ?? false
        if rule.config.dailyMax == true, let day = instance.day, day != Self.day(of: now, in: timeZone) {
            // A new day: yesterday's peak no longer counts, and what it raised resolves.
            instance.value = nil
            instance.day = nil
            instance.pendingSince = nil
            instance.clearingSince = nil
            if let alert = instance.threshold {
                instance.threshold = nil
                out += resolve(alert, at: now)
            }
        }
        if let threshold = rule.threshold {
            if let alert = instance.threshold {
                if !open {
                    instance.threshold = nil
                    instance.clearingSince = nil
                    out += resolve(alert, at: now)
                } else if let value = instance.value, threshold.clears(value) {
                    let since = instance.clearingSince ?? now
                    instance.clearingSince = since
                    if now.timeIntervalSince(since) >= rule.clearAfter {
                        instance.threshold = nil
                        instance.clearingSince = nil
                        out += resolve(alert, at: now)
                    }
                } else {
                    instance.clearingSince = nil
                }
            } else if open, !excluded, let value = instance.value, threshold.raises(value) {
                let since = instance.pendingSince ?? now
                instance.pendingSince = since
                if now.timeIntervalSince(since) >= rule.raiseAfter {
                    instance.pendingSince = nil
                    let summary = rule.summary(topic: topic, value: value, texts: texts)
                    let labels = labels(name: rule.alertName(topic: topic, noData: false), device: device,
                                        severity: rule.severity)
                    out += fire(labels: labels, summary: summary, at: now)
                    instance.threshold = active[Alert.fingerprint(of: labels)]
                }
            } else {
                instance.pendingSince = nil
            }
        }
        if let after = rule.noDataAfter {
            let silent = now.timeIntervalSince(instance.lastSeen)
            if instance.noData == nil, open, !excluded, silent >= after {
                let labels = labels(name: rule.alertName(topic: topic, noData: true), device: device, severity: rule.severity)
                out += fire(labels: labels, summary: texts.noData(topic, seconds: Int(silent.rounded())), at: now)
                instance.noData = active[Alert.fingerprint(of: labels)]
            } else if let alert = instance.noData, !open {
                instance.noData = nil
                out += resolve(alert, at: now)
            }
        }
        return out
    }

    // MARK: built-in events

    private mutating func builtIn(levels: [String], payload: [UInt8], at now: Date) -> [AlertTransition] {
        guard levels.count == 3 else { return [] }
        let (kind, id, leaf) = (levels[0], levels[1], levels[2])
        let text = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        switch (kind, leaf) {
        case ("device", "availability") where events.communicationLost:
            guard text == "online" || text == "offline" else { return [] }
            return event("communication_lost", device: id, active: text == "offline", severity: .critical,
                         summary: texts.communicationLost(id), at: now)
        case ("meter", "tic_status") where events.tic:
            guard !text.isEmpty else { return [] }
            return event("tic_status", device: id, active: text != "ok", severity: .warning,
                         summary: texts.tic(id, state: text), at: now)
        case ("chargepoint", "state") where events.chargerError:
            guard let status = Self.string(payload, field: "status") else { return [] }
            return event("charger_error", device: id, active: status == "error", severity: .critical,
                         summary: texts.chargerError(id), at: now)
        case ("meter", Quantity.breakerState.rawValue) where events.breakerTripped:
            let tripped: Bool
            switch text.lowercased() {
            case "open", "tripped", "off", "0": tripped = true
            case "closed", "on", "1": tripped = false
            default: return []
            }
            return event("breaker_tripped", device: id, active: tripped, severity: .critical,
                         summary: texts.breakerTripped(id), at: now)
        default:
            return []
        }
    }

    // MARK: helpers

    private func labels(name: String, device: String?, severity: AlertSeverity) -> [String: String] {
        var labels = ["alertname": name, "site": site, "severity": severity.rawValue]
        if let device { labels["device"] = device }
        return labels
    }

    private mutating func fire(labels: [String: String], summary: String, at now: Date) -> [AlertTransition] {
        if var previous = restored.removeValue(forKey: Alert.fingerprint(of: labels)) {
            // Still firing since the previous run: same alert, same start, nothing new to say.
            previous.labels = labels
            active[previous.fingerprint] = previous
            return []
        }
        let alert = Alert(labels: labels, annotations: ["summary": summary], status: .firing, startsAt: now)
        active[alert.fingerprint] = alert
        return [AlertTransition(alert)]
    }

    private mutating func resolve(_ alert: Alert, at now: Date) -> [AlertTransition] {
        guard active.removeValue(forKey: alert.fingerprint) != nil else { return [] }
        var resolved = alert
        resolved.status = .resolved
        resolved.endsAt = now
        return [AlertTransition(resolved)]
    }

    static func day(of date: Date, in zone: TimeZone) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.dateComponents([.year, .month, .day], from: date)
    }

    /// The device a topic is about: `meter/<id>/…`, `device/<id>/…`, `chargepoint/<id>/…`, `relay/<id>/…`.
    static func device(of topic: String) -> String? {
        let levels = topic.split(separator: "/")
        guard levels.count >= 3, ["meter", "device", "chargepoint", "relay"].contains(levels[0]) else { return nil }
        return String(levels[1])
    }

    static func value(_ payload: [UInt8], field: String?) -> Any? {
        guard let field else { return String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard var current = try? JSONSerialization.jsonObject(with: Data(payload)) else { return nil }
        for key in field.split(separator: ".") {
            guard let object = current as? [String: Any], let next = object[String(key)] else { return nil }
            current = next
        }
        return current
    }

    /// The number in a payload: a plain number, or the JSON `field`; `true`/`false` count 1/0.
    static func number(_ payload: [UInt8], field: String?) -> Double? {
        switch value(payload, field: field) {
        case let s as String: return Double(s).flatMap { $0.isFinite ? $0 : nil }
        case let n as NSNumber:
            // JSONSerialization boxes `true` as an NSNumber of ObjC type `c` (see `JSONObject`).
            if String(cString: n.objCType) == "c" { return n.boolValue ? 1 : 0 }
            return n.doubleValue.isFinite ? n.doubleValue : nil
        default: return nil
        }
    }

    static func string(_ payload: [UInt8], field: String) -> String? { value(payload, field: field) as? String }
}

/// A rule the engine cannot run; `AlertsSiteCheck` names it with its line.
public struct AlertRuleError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }
}

/// Which built-in device events are on (all by default).
struct BuiltInEvents: Sendable {
    var communicationLost = true, tic = true, chargerError = true, breakerTripped = true
    var serviceOffline = true, licence = true, outbox = true

    init(_ c: BuiltInEventsConfig?) {
        communicationLost = c?.communicationLost ?? true
        tic = c?.tic ?? true
        chargerError = c?.chargerError ?? true
        breakerTripped = c?.breakerTripped ?? true
        serviceOffline = c?.serviceOffline ?? true
        licence = c?.licence ?? true
        outbox = c?.outbox ?? true
    }

    var filters: [String] {
        var f: [String] = []
        if communicationLost { f.append("device/+/availability") }
        if tic { f.append("meter/+/tic_status") }
        if chargerError { f.append("chargepoint/+/state") }
        if breakerTripped { f.append("meter/+/\(Quantity.breakerState.rawValue)") }
        return f
    }
}
