import Foundation
import PhasorCore

/// The French tariff signals as a TIC meter's reading carries them (the gateway
/// normalises PTEC / LTARF / DEMAIN / STGE / PEJP / DPMx–FPMx into `tempo_today`,
/// `tempo_tomorrow`, `tariff_period`, `ejp_notice`, `mobile_peak_start/end`).
public struct TariffSignals: Sendable, Equatable {
    public enum Colour: String, Sendable, Equatable { case blue, white, red }
    public enum Period: String, Sendable, Equatable {
        case peak, offPeak = "off_peak", mobilePeak = "mobile_peak", normal, base
    }

    public var time: Date
    public var tempoToday: Colour?
    public var tempoTomorrow: Colour?
    public var period: Period?
    public var ejpNoticeMinutes: Double?
    public var mobilePeak: DateInterval?

    public init(time: Date, tempoToday: Colour? = nil, tempoTomorrow: Colour? = nil, period: Period? = nil,
                ejpNoticeMinutes: Double? = nil, mobilePeak: DateInterval? = nil) {
        self.time = time
        self.tempoToday = tempoToday
        self.tempoTomorrow = tempoTomorrow
        self.period = period
        self.ejpNoticeMinutes = ejpNoticeMinutes
        self.mobilePeak = mobilePeak
    }

    /// Reads the normalised quantities of a reading; nil when it carries none (not a TIC meter).
    public init?(reading: Reading) {
        func text(_ q: Quantity) -> String? { reading[q]?.text }
        func time(_ q: Quantity) -> Date? {
            if case .time(let t)? = reading[q] { return t?.date }
            return nil
        }
        self.init(time: reading.time.date)
        tempoToday = text(.tempoToday).flatMap(Colour.init(rawValue:))
        tempoTomorrow = text(.tempoTomorrow).flatMap(Colour.init(rawValue:))
        period = text(.tariffPeriod).flatMap(Period.init(rawValue:))
        ejpNoticeMinutes = reading.number(.ejpNotice)
        if let start = time(.mobilePeakStart), let end = time(.mobilePeakEnd), end > start {
            mobilePeak = DateInterval(start: start, end: end)
        }
        if tempoToday == nil && tempoTomorrow == nil && period == nil && ejpNoticeMinutes == nil && mobilePeak == nil {
            return nil
        }
    }

    /// Whether `condition` holds at `now`.
    public func holds(_ condition: TariffCondition, at now: Date) -> Bool {
        let peakHours = period == .peak
        switch condition {
        case .tempoBlue: return tempoToday == .blue
        case .tempoWhite: return tempoToday == .white
        case .tempoRed: return tempoToday == .red
        case .tempoWhitePeak: return tempoToday == .white && peakHours
        case .tempoRedPeak: return tempoToday == .red && peakHours
        case .tomorrowRed: return tempoTomorrow == .red
        case .tomorrowWhite: return tempoTomorrow == .white
        case .ejpPeak: return period == .mobilePeak
        case .ejpNotice: return ejpNoticeMinutes != nil
        case .mobilePeak:
            return period == .mobilePeak || (mobilePeak.map { now >= $0.start && now < $0.end } ?? false)
        case .peak: return peakHours
        case .offPeak: return period == .offPeak
        }
    }
}

/// When a tariff rule applies.
public enum TariffCondition: String, Sendable, Equatable, Decodable, CaseIterable {
    case tempoBlue = "tempo_blue", tempoWhite = "tempo_white", tempoRed = "tempo_red"
    case tempoWhitePeak = "tempo_white_peak", tempoRedPeak = "tempo_red_peak"
    case tomorrowRed = "tomorrow_red", tomorrowWhite = "tomorrow_white"
    case ejpPeak = "ejp_peak", ejpNotice = "ejp_notice", mobilePeak = "mobile_peak"
    case peak, offPeak = "off_peak"
}

/// What cars may do while a rule applies.
public enum TariffCarLimit: String, Sendable, Equatable, Decodable, Comparable {
    /// Only solar surplus (automatic and manual points charge as `solar`).
    case solar
    /// Not at all.
    case off

    public static func < (a: Self, b: Self) -> Bool { a == .solar && b == .off }
}

/// One rule: `when` a signal holds, cap the heat pump, shed relays, limit cars, or force relays on.
public struct TariffRule: Sendable, Equatable, Decodable {
    public var when: TariffCondition
    /// The highest regime the heat pump may run in (`off` or `normal` in practice).
    public var heatPump: HeatPumpRegime?
    /// Relays switched off (their timers too); `["all"]` or `all` for every plain relay.
    public var relaysOff: [String]
    /// Relays forced on (e.g. the boiler in off-peak hours).
    public var relaysOn: [String]
    public var cars: TariffCarLimit?

    public init(when: TariffCondition, heatPump: HeatPumpRegime? = nil, relaysOff: [String] = [], relaysOn: [String] = [],
                cars: TariffCarLimit? = nil) {
        self.when = when
        self.heatPump = heatPump
        self.relaysOff = relaysOff
        self.relaysOn = relaysOn
        self.cars = cars
    }

    enum CodingKeys: String, CodingKey { case when, heatPump, relaysOff, relaysOn, cars }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func list(_ key: CodingKeys) throws -> [String] {
            if let one = try? c.decode(String.self, forKey: key) { return [one] }
            return try c.decodeIfPresent([String].self, forKey: key) ?? []
        }
        self.init(
            when: try c.decode(TariffCondition.self, forKey: .when),
            heatPump: try c.decodeIfPresent(HeatPumpRegime.self, forKey: .heatPump),
            relaysOff: try list(.relaysOff), relaysOn: try list(.relaysOn),
            cars: try c.decodeIfPresent(TariffCarLimit.self, forKey: .cars))
    }
}

/// The rules that apply now, combined: the lowest heat-pump cap, the strictest car limit,
/// every relay shed or forced (shedding wins over forcing).
public struct TariffOutcome: Sendable, Equatable {
    public var heatPumpCap: HeatPumpRegime?
    public var relaysOff: Set<String> = []
    public var relaysOn: Set<String> = []
    public var cars: TariffCarLimit?
    /// The conditions that hold, for `control/state`.
    public var active: [TariffCondition] = []

    public init() {}

    public func sheds(_ relay: String) -> Bool { relaysOff.contains(relay) || relaysOff.contains("all") }
    public func forcesOn(_ relay: String) -> Bool { !sheds(relay) && relaysOn.contains(relay) }
}

public enum TariffSignalRules {
    /// Signals older than this are not acted on, s (a TIC frame arrives every 1–3 s).
    public static let maxSignalAge: TimeInterval = 120

    /// The outcome of `rules` at `now`. Without fresh signals no rule applies: nothing is
    /// shed or forced on a guess.
    public static func evaluate(_ rules: [TariffRule], signals: TariffSignals?, now: Date) -> TariffOutcome {
        var out = TariffOutcome()
        guard let signals, abs(now.timeIntervalSince(signals.time)) <= maxSignalAge else { return out }
        for rule in rules where signals.holds(rule.when, at: now) {
            if !out.active.contains(rule.when) { out.active.append(rule.when) }
            if let cap = rule.heatPump { out.heatPumpCap = min(out.heatPumpCap ?? cap, cap) }
            out.relaysOff.formUnion(rule.relaysOff)
            out.relaysOn.formUnion(rule.relaysOn)
            if let cars = rule.cars { out.cars = max(out.cars ?? cars, cars) }
        }
        return out
    }
}
