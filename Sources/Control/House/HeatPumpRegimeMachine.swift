import Foundation

/// The four SG-Ready operating states, lowest power first.
///
/// The SG-Ready label (Bundesverband Wärmepumpe) defines them by the two input contacts,
/// written (contact 1 : contact 2), 1 = closed:
///
/// | state | label | (1 : 2) | Phasor relay 1 (SG0) | relay 2 (SG1) |
/// |---|---|---|---|---|
/// | 1 | utility lock (EVU-Sperre) | 1 : 0 | on | off |
/// | 2 | normal operation | 0 : 0 | off | off |
/// | 3 | switch-on recommendation | 0 : 1 | off | on |
/// | 4 | switch-on command | 1 : 1 | on | on |
///
/// The modules wire relay 1 to the heat pump's first SG input (SG0, the lock contact)
/// and relay 2 to the second (SG1), so the relay pattern is the label's pattern.
public enum HeatPumpRegime: Int, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case off = 0, normal = 1, comfort = 2, boost = 3

    public init?(name: String) {
        guard let r = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = r
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let name = try c.decode(String.self)
        guard let r = HeatPumpRegime(name: name) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(name)': use off, normal, comfort or boost")
        }
        self = r
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }

    public var name: String {
        switch self {
        case .off: "off"
        case .normal: "normal"
        case .comfort: "comfort"
        case .boost: "boost"
        }
    }

    public var description: String { name }
    public var rank: Int { rawValue }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The SG-Ready contact pattern: relay 1 (SG0) and relay 2 (SG1), true = closed.
    public var contacts: (sg0: Bool, sg1: Bool) {
        switch self {
        case .off: (true, false)
        case .normal: (false, false)
        case .comfort: (false, true)
        case .boost: (true, true)
        }
    }
}

/// The datasheet timing of the regimes.
public enum HeatPumpTiming {
    /// Minimum time in a regime entered by stepping up: residential 5 min in Normal and
    /// Boost, 10 min in Comfort; hub 10 / 15 min.
    public static func presetDwell(_ regime: HeatPumpRegime, preset: Preset) -> Double {
        switch (preset, regime) {
        case (_, .off): 0
        case (.residential, .comfort): 600
        case (.residential, _): 300
        case (.hub, .comfort): 900
        case (.hub, _): 600
        }
    }
}

/// The rules of the regimes, stepped on injected time; no clock, no I/O.
///
/// - Up one regime at a time (Off → Normal → Comfort → Boost, skipping the ones the heat
///   pump lacks); a regime entered upwards holds its dwell time before any change.
/// - Down one regime at a time; a regime entered downwards holds `holdDownSeconds` (1 min).
/// - Off lasts at most `maxOffSeconds` (2 h); then Normal for at least
///   `normalAfterOffSeconds` (1 h), whatever is asked.
/// - `urgent` (a breaker limit exceeded): down to the wanted regime at once, dwell and
///   hold times ignored; the 2 h Off limit still holds.
public struct HeatPumpRegimeMachine: Sendable, Equatable, Codable {
    public private(set) var regime: HeatPumpRegime
    public private(set) var since: Date
    /// The current regime was entered by stepping up (its dwell applies) or down (the hold).
    public private(set) var enteredUpwards: Bool
    /// Off is refused until then (Normal after an Off that reached its limit).
    public private(set) var offBlockedUntil: Date?

    public init(regime: HeatPumpRegime = .normal, since: Date, offBlockedUntil: Date? = nil) {
        self.regime = regime
        self.since = since
        self.enteredUpwards = false
        self.offBlockedUntil = offBlockedUntil
    }

    /// The rules' parameters for one heat pump.
    public struct Rules: Sendable, Equatable {
        public var available: [HeatPumpRegime]
        public var dwell: [HeatPumpRegime: Double]
        public var holdDown: Double
        public var maxOff: Double
        public var normalAfterOff: Double

        public init(available: [HeatPumpRegime], dwell: [HeatPumpRegime: Double], holdDown: Double = 60,
                    maxOff: Double = 7200, normalAfterOff: Double = 3600) {
            self.available = available.sorted()
            self.dwell = dwell
            self.holdDown = holdDown
            self.maxOff = maxOff
            self.normalAfterOff = normalAfterOff
        }

        public init(config: HeatPumpConfig, preset: Preset, model: HeatPumpModel? = nil) {
            let available = config.availableRegimes(model: model)
            var dwell: [HeatPumpRegime: Double] = [:]
            for r in HeatPumpRegime.allCases { dwell[r] = config.dwell(r, preset: preset) }
            self.init(available: available, dwell: dwell, holdDown: config.holdDownSeconds, maxOff: config.maxOffSeconds,
                      normalAfterOff: config.normalAfterOffSeconds)
        }

        /// The highest available regime at or below `r` (Normal at least).
        func clamp(_ r: HeatPumpRegime) -> HeatPumpRegime { available.last { $0 <= r } ?? .normal }
        func above(_ r: HeatPumpRegime) -> HeatPumpRegime? { available.first { $0 > r } }
        func below(_ r: HeatPumpRegime) -> HeatPumpRegime? { available.last { $0 < r } }
    }

    /// Why the regime is what it is after a step.
    public enum Hold: Sendable, Equatable {
        /// At the regime asked for.
        case none
        /// A change waits for the regime's minimum time, until `until`.
        case dwell(until: Date)
        /// Off reached its limit: Normal until `until`.
        case offLimit(until: Date)
    }

    /// The earliest time the current regime may be left.
    public func earliestChange(rules: Rules) -> Date {
        since + (enteredUpwards ? (rules.dwell[regime] ?? 0) : rules.holdDown)
    }

    /// Steps towards `wanted` at `now`; returns what holds the regime back, if anything.
    @discardableResult
    public mutating func step(wanted: HeatPumpRegime, now: Date, rules: Rules, urgent: Bool = false) -> Hold {
        var target = rules.clamp(wanted)
        var offHold: Hold?
        // Off at most maxOff, then Normal for normalAfterOff.
        if regime == .off, now.timeIntervalSince(since) >= rules.maxOff {
            offBlockedUntil = since + rules.maxOff + rules.normalAfterOff
            move(to: rules.above(.off) ?? .normal, upwards: true, now: now)
            return target == .off ? .offLimit(until: offBlockedUntil!) : .dwell(until: earliestChange(rules: rules))
        }
        if let until = offBlockedUntil {
            if now >= until { offBlockedUntil = nil }
            else if target == .off {
                target = rules.clamp(.normal)
                offHold = .offLimit(until: until)
            }
        }
        if target == regime { return offHold ?? .none }
        if urgent && target < regime {
            move(to: target, upwards: false, now: now)
            return offHold ?? .none
        }
        let earliest = earliestChange(rules: rules)
        guard now >= earliest else { return .dwell(until: earliest) }
        if target > regime, let next = rules.above(regime) {
            move(to: next, upwards: true, now: now)
        } else if target < regime, let next = rules.below(regime) {
            move(to: next, upwards: false, now: now)
        }
        if regime != target { return .dwell(until: earliestChange(rules: rules)) }
        return offHold ?? .none
    }

    private mutating func move(to next: HeatPumpRegime, upwards: Bool, now: Date) {
        regime = next
        since = now
        enteredUpwards = upwards
    }
}
