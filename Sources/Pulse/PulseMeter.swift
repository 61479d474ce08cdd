import Foundation
import PhasorCore

/// Turns counted pulses into a meter reading: the total (initial + pulses ÷
/// pulses per unit) and a rate from the interval between the last two pulses.
/// When pulses stop, the rate can be at most one pulse over the time since the
/// last one, so it decays as 1/t, and reads 0 after `zeroAfter`. Pure: time
/// comes with each call.
public struct PulseMeter: Sendable {
    public let config: PulseInputConfig
    public private(set) var count: UInt64
    private var lastPulse: Date?
    private var lastInterval: TimeInterval?

    public init(config: PulseInputConfig, count: UInt64 = 0) {
        self.config = config
        self.count = count
    }

    /// One pulse in the published unit of the total (kWh or m³).
    public var perPulse: Double {
        let unitsPerPulse = 1 / config.pulsesPerUnit
        return config.unit == .l ? unitsPerPulse / 1000 : unitsPerPulse
    }

    public var total: Double { (config.initial.map { config.unit == .l ? $0 / 1000 : $0 } ?? 0) + Double(count) * perPulse }

    public mutating func record(at time: Date) {
        count += 1
        if let lastPulse { lastInterval = time.timeIntervalSince(lastPulse) }
        lastPulse = time
    }

    /// W for energy (kWh per pulse × 3.6e6 J/kWh ÷ s), m³/h for volumes.
    public func rate(at now: Date) -> Double {
        guard let lastPulse, let lastInterval, lastInterval > 0 else { return 0 }
        let elapsed = now.timeIntervalSince(lastPulse)
        if elapsed >= (config.zeroAfterS ?? 600) { return 0 }
        let interval = max(lastInterval, elapsed)
        let perSecond = perPulse / interval
        return config.unit == .kwh ? perSecond * 3_600_000 : perSecond * 3600
    }

    public func reading(at now: Date, utcOffsetSeconds: Int = 0) -> Reading {
        var reading = Reading(device: config.id, time: MeterTimestamp(date: now, utcOffsetSeconds: utcOffsetSeconds))
        reading.set(config.totalQuantity, (total * 1e6).rounded() / 1e6)
        reading.set(config.rateQuantityName, (rate(at: now) * 1000).rounded() / 1000)
        return reading
    }
}
