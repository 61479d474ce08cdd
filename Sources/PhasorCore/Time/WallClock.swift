import Foundation

/// The source of "now" for everything that timestamps, times out or follows the
/// calendar (quarter hours, month boundaries, licence expiry). Injected so tests
/// run a whole quarter hour in microseconds.
public protocol WallClock: Sendable {
    func now() -> Date
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock tests move by hand.
public final class ManualWallClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }
    public func now() -> Date { lock.withLock { current } }
    public func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }
    public func set(_ date: Date) { lock.withLock { current = date } }
}

extension Date {
    /// Something last done at `last` is due again at `self` every `interval` seconds. A `last`
    /// in the future means the wall clock stepped back (NTP, an operator): due now, not after
    /// the step's length of silence. One rule for every wall-clock schedule (Modbus polls,
    /// charge-point polls); the chaos soak's clock step found each of them frozen.
    public func isDue(after last: Date, every interval: TimeInterval) -> Bool {
        let elapsed = timeIntervalSince(last)
        return elapsed < 0 || elapsed >= interval - 0.001
    }
}
