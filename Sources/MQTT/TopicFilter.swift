/// An MQTT topic filter (`phasor/+/meter/#`) and the matching rules of MQTT §4.7.
public struct TopicFilter: Sendable, Hashable, CustomStringConvertible {
    public let filter: String
    private let levels: [Substring]

    /// Refuses filters MQTT forbids: empty, `#` not last or not alone in its level,
    /// `+` not alone in its level.
    public init(_ filter: String) throws(MQTTError) {
        guard !filter.isEmpty else { throw .invalidTopicFilter(filter, reason: "empty") }
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        for (i, level) in levels.enumerated() {
            if level.contains("#") && (level != "#" || i != levels.count - 1) {
                throw .invalidTopicFilter(filter, reason: "'#' must be the whole last level")
            }
            if level.contains("+") && level != "+" {
                throw .invalidTopicFilter(filter, reason: "'+' must be a whole level")
            }
        }
        self.filter = filter
        self.levels = levels
    }

    public var description: String { filter }

    /// Whether a concrete topic name matches. Wildcards at the first level do not
    /// match topics starting with `$` (e.g. `$SYS/...`), as MQTT requires.
    public func matches(_ topic: String) -> Bool {
        var topicLevels = topic.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)[...]
        if topic.utf8.first == UInt8(ascii: "$"), let first = levels.first, first == "+" || first == "#" {
            return false
        }
        for level in levels {
            if level == "#" { return true }
            guard let t = topicLevels.popFirst() else { return false }
            if level == "+" { continue }
            if !level.utf8.elementsEqual(t) { return false }
        }
        return topicLevels.isEmpty
    }
}
