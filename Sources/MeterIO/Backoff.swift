/// Capped exponential back-off between reopen attempts: a meter that is unplugged
/// for an hour is retried every `maximum`, one that blinks is back within `initial`.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// The wait before attempt `failures + 1` (after `failures` consecutive failures, ≥ 1).
    public func delay(afterFailures failures: Int) -> Duration {
        var d = initial
        for _ in 1..<max(1, failures) {
            d = d * 2
            if d >= maximum { return maximum }
        }
        return min(d, maximum)
    }
}
