import Foundation
import PhasorCore

/// A rule of the site file, checked and ready to evaluate.
struct CompiledRule: Sendable {
    let config: AlertRuleConfig
    let pattern: TopicPattern
    let threshold: Threshold?
    let raiseAfter: TimeInterval
    let clearAfter: TimeInterval
    let noDataAfter: TimeInterval?
    let severity: AlertSeverity
    let window: TimeWindow?

    struct Threshold: Sendable {
        var above: Bool
        var raise: Double
        var clear: Double
        func raises(_ v: Double) -> Bool { above ? v > raise : v < raise }
        /// Back on the safe side of the clear level; between the two levels nothing changes.
        func clears(_ v: Double) -> Bool { above ? v <= clear : v >= clear }
    }

    init(_ c: AlertRuleConfig, index i: Int) throws(AlertRuleError) {
        let at = "alerts.rules[\(i)]"
        func fail(_ field: String, _ message: String) -> AlertRuleError { AlertRuleError(field: "\(at).\(field)", message: message) }
        config = c
        guard !c.id.isEmpty, c.id.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) else {
            throw fail("id", "'\(c.id)': use lowercase letters, digits and '_' (it names the alert and its topic)")
        }
        guard let pattern = TopicPattern(c.topic) else {
            throw fail("topic", "'\(c.topic)': a topic under the site's root, levels separated by '/', '+' for one level (no '#')")
        }
        self.pattern = pattern
        switch (c.above, c.below) {
        case (.some, .some):
            throw fail("below", "a rule has `above` or `below`, not both (make two rules)")
        case (let level?, nil), (nil, let level?):
            let above = c.above != nil
            let clear = c.clear ?? level
            guard level.isFinite, clear.isFinite else { throw fail(above ? "above" : "below", "must be a finite number") }
            if above ? clear > level : clear < level {
                throw fail("clear", "\(JSONWriter.format(clear)): the clear level of `\(above ? "above" : "below")` "
                           + "\(JSONWriter.format(level)) must be \(above ? "at or below" : "at or above") it (hysteresis)")
            }
            threshold = Threshold(above: above, raise: level, clear: clear)
        case (nil, nil):
            if c.clear != nil { throw fail("clear", "a clear level needs `above` or `below`") }
            threshold = nil
        }
        if c.ratioTo != nil && c.field == nil { throw fail("ratio_to", "needs `field`: both are keys of one JSON payload") }
        if (c.ratioTo != nil || c.dailyMax == true) && c.above == nil && c.below == nil {
            throw fail(c.ratioTo != nil ? "ratio_to" : "daily_max", "needs `above` or `below`")
        }
        guard threshold != nil || c.noDataAfterS != nil else {
            throw fail("above", "a rule needs `above`, `below` or `no_data_after_s`")
        }
        for (name, value) in [("raise_after_s", c.raiseAfterS), ("clear_after_s", c.clearAfterS), ("no_data_after_s", c.noDataAfterS)] {
            if let value, !(value.isFinite && value >= 0 && value <= 31 * 86_400) {
                throw fail(name, "\(JSONWriter.format(value)): use 0…2678400 seconds")
            }
        }
        if let n = c.noDataAfterS, n <= 0 { throw fail("no_data_after_s", "use more than 0 seconds") }
        raiseAfter = c.raiseAfterS ?? 0
        clearAfter = c.clearAfterS ?? 0
        noDataAfter = c.noDataAfterS
        severity = c.severity ?? .warning
        if let w = c.window {
            do { window = try TimeWindow(w) } catch { throw fail("window", error.message) }
        } else {
            window = nil
        }
    }

    /// The rule's value in a payload: the number, or `field`, as a fraction of `ratio_to` when set.
    func value(of payload: [UInt8]) -> Double? {
        guard let value = AlertEngine.number(payload, field: config.field) else { return nil }
        guard let ratioTo = config.ratioTo else { return value }
        guard let base = AlertEngine.number(payload, field: ratioTo), base != 0 else { return nil }
        return value / base
    }

    func alertName(topic: String, noData: Bool) -> String {
        noData && threshold != nil ? "\(config.id)_no_data" : config.id
    }

    func summary(topic: String, value: Double, texts: AlertTexts) -> String {
        let shown = JSONWriter.format(value)
        if let message = config.message { return message.replacingOccurrences(of: "{value}", with: shown) }
        var what = config.field.map { "\(topic) \($0)" } ?? topic
        if let ratioTo = config.ratioTo { what += " / \(ratioTo)" }
        if config.dailyMax == true { what = texts.dailyPeak(what) }
        guard let threshold else { return what }
        let level = JSONWriter.format(threshold.raise)
        return threshold.above ? texts.above(what, value: shown, level: level) : texts.below(what, value: shown, level: level)
    }
}

/// A topic filter under the site's root with `+` for one level.
struct TopicPattern: Sendable {
    let levels: [String]
    var hasWildcard: Bool { levels.contains("+") }

    init?(_ topic: String) {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !topic.isEmpty, !levels.contains(where: { $0.isEmpty || $0.contains("#") || ($0.contains("+") && $0 != "+") }) else {
            return nil
        }
        self.levels = levels
    }

    func matches(_ topic: [String]) -> Bool {
        topic.count == levels.count && zip(levels, topic).allSatisfy { $0 == "+" || $0 == $1 }
    }
}

/// Local hours and weekdays during which a rule may raise.
struct TimeWindow: Sendable {
    let from: Int  // minutes after midnight
    let to: Int
    let days: Set<Int>  // Calendar weekdays, 1 = Sunday

    struct Problem: Error { var message: String }
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    init(_ c: TimeWindowConfig) throws(Problem) {
        func minutes(_ s: String, _ name: String) throws(Problem) -> Int {
            let parts = s.split(separator: ":")
            guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let h = Int(parts[0]), let m = Int(parts[1]),
                  (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440 else {
                throw Problem(message: "\(name) '\(s)': use HH:MM, 00:00…24:00")
            }
            return h * 60 + m
        }
        from = try minutes(c.from, "from")
        to = try minutes(c.to, "to")
        guard from != to else { throw Problem(message: "from and to are equal: leave the window out to alert at any time") }
        var days = Set<Int>()
        for d in c.days ?? Self.dayNames {
            guard let i = Self.dayNames.firstIndex(of: d.lowercased()) else {
                throw Problem(message: "day '\(d)': use mon, tue, wed, thu, fri, sat, sun")
            }
            days.insert(i + 1)
        }
        self.days = days
    }

    /// A window that wraps past midnight belongs to the day it opened.
    func contains(_ date: Date, in zone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute, .weekday], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let weekday = parts.weekday ?? 1
        if from < to { return days.contains(weekday) && minute >= from && minute < to }
        if minute >= from { return days.contains(weekday) }
        let yesterday = weekday == 1 ? 7 : weekday - 1
        return minute < to && days.contains(yesterday)
    }
}
