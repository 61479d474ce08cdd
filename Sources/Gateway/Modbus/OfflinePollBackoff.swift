import Foundation

/// How often a device that does not answer is polled: each poll of a silent
/// device holds its bus (shared with its neighbours on one TCP gateway or RS-485
/// line) for a whole timeout and retry, so while it is offline the pause between
/// polls doubles, from its normal interval up to `maximum`. The first answer ends it.
struct OfflinePollBackoff {
    static let maximum: TimeInterval = 15
    private var offlinePolls = 0

    /// The pause before the next poll (the normal interval while online).
    func interval(normal: TimeInterval) -> TimeInterval {
        guard offlinePolls > 0 else { return normal }
        return min(normal * pow(2, Double(offlinePolls)), max(normal, Self.maximum))
    }

    mutating func record(offline: Bool) {
        offlinePolls = offline ? offlinePolls + 1 : 0
    }
}
