import Foundation

/// A daily time window in local time (`from: "11:30"`, `to: "14:00"`), optionally on
/// some weekdays. `to` before `from` runs across midnight (the weekday is the one the
/// window starts on). Membership is by local wall-clock time, so on the night clocks go
/// forward a window inside the skipped hour does not occur, and on the night they go back
/// a window inside the repeated hour lasts two hours.
public struct TimerWindow: Sendable, Equatable, Decodable {
    /// Minutes after local midnight.
    public var from: Int
    public var to: Int
    /// 1 = Monday … 7 = Sunday (ISO 8601); empty = every day.
    public var days: Set<Int>

    public init(from: Int, to: Int, days: Set<Int> = []) {
        self.from = from
        self.to = to
        self.days = days
    }

    public static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    enum CodingKeys: String, CodingKey { case from, to, days }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func minutes(_ key: CodingKeys) throws -> Int {
            let text = try c.decode(String.self, forKey: key)
            guard let m = Self.parseClock(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "'\(text)': use HH:MM, 00:00…24:00")
            }
            return m
        }
        var days: Set<Int> = []
        for name in try c.decodeIfPresent([String].self, forKey: .days) ?? [] {
            guard let i = Self.dayNames.firstIndex(of: name.lowercased()) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .days, in: c, debugDescription: "'\(name)': use \(Self.dayNames.joined(separator: ", "))")
            }
            days.insert(i + 1)
        }
        self.init(from: try minutes(.from), to: try minutes(.to), days: days)
    }

    /// "HH:MM" → minutes; 24:00 is the end of the day.
    public static func parseClock(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
            (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440
        else { return nil }
        return h * 60 + m
    }

    /// Whether `now` falls in the window, in `calendar`'s time zone.
    public func contains(_ now: Date, calendar: Calendar) -> Bool {
        let parts = calendar.dateComponents([.hour, .minute, .weekday], from: now)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        // Calendar weekday: 1 = Sunday … 7 = Saturday → ISO 1 = Monday … 7 = Sunday.
        let today = ((parts.weekday ?? 1) + 5) % 7 + 1
        let yesterday = (today + 5) % 7 + 1
        func on(_ day: Int) -> Bool { days.isEmpty || days.contains(day) }
        if from == to { return false }
        if from < to { return minute >= from && minute < to && on(today) }
        // Across midnight: the evening part today, the morning part belongs to yesterday's window.
        return (minute >= from && on(today)) || (minute < to && on(yesterday))
    }
}

/// A plain relay's state between cycles, stepped on injected time.
public struct SurplusRelayMachine: Sendable, Equatable, Codable {
    public private(set) var on: Bool
    public private(set) var since: Date

    public init(on: Bool = false, since: Date) {
        self.on = on
        self.since = since
    }

    /// What asks for the relay this cycle.
    public struct Inputs: Sendable, Equatable {
        /// The export there would be with this relay off, after the loads ranked above it, W.
        public var surplusW: Double
        /// A timer window or a tariff rule forces it on.
        public var forcedOn: Bool
        /// A tariff rule or a shortage of power sheds it.
        public var shed: Bool
        /// Switching on would exceed a limit of its panel.
        public var noRoom: Bool
        /// A limit of its panel is exceeded now: off at once, minimum on time or not.
        public var urgentOff: Bool
        /// An operator's forced state (with its expiry handled by the caller).
        public var operatorState: Bool?

        public init(surplusW: Double, forcedOn: Bool = false, shed: Bool = false, noRoom: Bool = false,
                    urgentOff: Bool = false, operatorState: Bool? = nil) {
            self.surplusW = surplusW
            self.forcedOn = forcedOn
            self.shed = shed
            self.noRoom = noRoom
            self.urgentOff = urgentOff
            self.operatorState = operatorState
        }
    }

    /// Why the relay is in its state.
    public enum Reason: String, Sendable, Equatable, Codable {
        case surplus, noSurplus = "no_surplus", timer, shed, noRoom = "no_room", limitExceeded = "limit_exceeded"
        case minOn = "min_on", minOff = "min_off", operatorForced = "operator", manualOnly = "not_automatic"
    }

    /// Steps at `now`; returns why the relay is in its state.
    @discardableResult
    public mutating func step(_ input: Inputs, config: SurplusRelayConfig, now: Date) -> Reason {
        if input.urgentOff && on {
            set(false, now)
            return .limitExceeded
        }
        let wanted: Bool
        var reason: Reason
        if let forced = input.operatorState {
            wanted = forced
            reason = .operatorForced
        } else if input.shed {
            wanted = false
            reason = .shed
        } else if input.forcedOn {
            wanted = true
            reason = .timer
        } else if !config.automatic {
            wanted = false
            reason = .manualOnly
        } else {
            wanted = on ? input.surplusW >= config.offThresholdW : input.surplusW >= config.onThresholdW
            reason = wanted ? .surplus : .noSurplus
        }
        if wanted && !on && input.noRoom { return .noRoom }
        if wanted == on { return reason }
        let held = now.timeIntervalSince(since)
        if on && held < config.minOnSeconds { return .minOn }
        if !on && held < config.minOffSeconds { return .minOff }
        set(wanted, now)
        return reason
    }

    private mutating func set(_ value: Bool, _ now: Date) {
        on = value
        since = now
    }
}
