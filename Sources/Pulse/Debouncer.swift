import Foundation

/// Counts an edge only when it comes at least `interval` after the last counted
/// one: a mechanical contact or a long cable rings for a few milliseconds, and an
/// S0 pulse lasts at least 30 ms, so anything sooner is the same pulse.
public struct Debouncer: Sendable, Hashable {
    public let interval: TimeInterval
    private var lastAccepted: Date?
    public private(set) var rejected = 0

    public init(interval: TimeInterval) { self.interval = max(0, interval) }

    public mutating func accept(_ time: Date) -> Bool {
        if let last = lastAccepted, time.timeIntervalSince(last) < interval {
            rejected += 1
            return false
        }
        lastAccepted = time
        return true
    }
}
