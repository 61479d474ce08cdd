import Foundation
import PhasorCore

/// When a per-quantity topic gets a new value. The JSON state carries every
/// telegram for control; these topics feed home-automation recorders, which
/// should not store the same voltage 86 400 times a day.
///
/// A value is published when it is the first, or when at least `minInterval` has
/// passed since the last publication and either it moved by at least its deadband
/// (any change when the deadband is 0) or `maxInterval` has passed.
public struct PublishPolicy: Sendable, Hashable {
    public var minInterval: TimeInterval
    public var maxInterval: TimeInterval
    public var deadbands: [Quantity: Double]

    /// Every change as it comes, unchanged values refreshed every five minutes.
    public static let defaultMinInterval: TimeInterval = 0
    public static let defaultMaxInterval: TimeInterval = 300

    public init(minInterval: TimeInterval = defaultMinInterval, maxInterval: TimeInterval = defaultMaxInterval,
                deadbands: [Quantity: Double] = [:]) {
        self.minInterval = minInterval
        self.maxInterval = maxInterval
        self.deadbands = deadbands
    }

    init(_ c: PublishPolicyConfiguration?) throws(PublishPolicyError) {
        let minimum = c?.minInterval ?? Self.defaultMinInterval
        let maximum = c?.maxInterval ?? max(Self.defaultMaxInterval, minimum)
        guard minimum >= 0 else { throw PublishPolicyError("min_interval \(minimum): must be ≥ 0") }
        guard maximum >= minimum else { throw PublishPolicyError("max_interval \(maximum): must be ≥ min_interval \(minimum)") }
        var bands: [Quantity: Double] = [:]
        for (name, band) in c?.deadband ?? [:] {
            guard band >= 0 else { throw PublishPolicyError("deadband.\(name) \(band): must be ≥ 0") }
            bands[Quantity(name)] = band
        }
        self.init(minInterval: minimum, maxInterval: maximum, deadbands: bands)
    }
}

public struct PublishPolicyError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Remembers what each per-quantity topic last carried and applies the policy.
/// Pure: the caller passes the time.
public struct QuantityThrottle: Sendable {
    public let policy: PublishPolicy
    private var last: [Quantity: (value: MeasuredValue, at: Date)] = [:]

    public init(policy: PublishPolicy) { self.policy = policy }

    /// Whether to publish `value` now; if so, it is remembered as published.
    public mutating func admit(_ quantity: Quantity, _ value: MeasuredValue, at now: Date) -> Bool {
        if let previous = last[quantity] {
            let elapsed = now.timeIntervalSince(previous.at)
            guard elapsed >= policy.minInterval else { return false }
            guard elapsed >= policy.maxInterval || moved(quantity, from: previous.value, to: value) else { return false }
        }
        last[quantity] = (value, now)
        return true
    }

    private func moved(_ quantity: Quantity, from old: MeasuredValue, to new: MeasuredValue) -> Bool {
        guard case .number(let a) = old, case .number(let b) = new else { return old != new }
        let band = policy.deadbands[quantity] ?? 0
        return band == 0 ? a != b : abs(b - a) >= band
    }
}
