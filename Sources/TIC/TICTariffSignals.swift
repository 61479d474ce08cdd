import PhasorCore

/// Tariff state the meter announces, gathered from whichever labels the mode sends.
public struct TICTariffSignals: Sendable, Hashable {
    /// OPTARIF (historique): `BASE`, `HC..`, `EJP.`, `BBRx`.
    public var tariffOption: String?
    /// PTEC (historique): current period, e.g. `HP..`, `HCJB`, `PM..`.
    public var currentPeriod: String?
    /// NGTF (standard): supplier calendar name, trimmed.
    public var supplierCalendar: String?
    /// LTARF (standard): current tariff label, trimmed (`HP  BLEU`).
    public var currentTariffLabel: String?
    /// NTARF (standard): current supplier index, 1…10.
    public var currentTariffIndex: Int?
    /// Tempo colour of today: from PTEC (`..JB/JW/JR`) or STGE bits 24-25.
    public var tempoToday: TempoColour?
    /// Tempo colour of tomorrow: DEMAIN or STGE bits 26-27.
    public var tempoTomorrow: TempoColour?
    /// PEJP: minutes of EJP pre-notice (30), only while announced.
    public var ejpNoticeMinutes: Int?
    /// True when PTEC says the mobile peak (EJP `PM..`) is running.
    public var ejpPeakActive: Bool
    /// DPMx / FPMx (standard): announced mobile peaks, index 1…3.
    public var mobilePeaks: [TICMobilePeak]
    /// NJOURF / NJOURF+1: supplier day-profile numbers today / tomorrow.
    public var dayProfileToday: Int?
    public var dayProfileTomorrow: Int?
    /// PJOURF+1 blocks `HHMMSSSS` without the unused `NONUTILE` ones.
    public var tomorrowSchedule: [String]
    /// RELAIS: relay 1 (real) … 8 (virtual), true = closed.
    public var relays: [Bool]?
    /// ADPS / ADIRx (historique): subscription exceeded; phase numbers (0 = single phase).
    public var overCurrentPhases: [Int]

    public init() {
        ejpPeakActive = false
        mobilePeaks = []
        tomorrowSchedule = []
        overCurrentPhases = []
    }
}

public struct TICMobilePeak: Sendable, Hashable {
    public var index: Int
    public var start: TICHorodate?
    public var end: TICHorodate?
}

extension TempoColour {
    /// `blue`, `white`, `red`; nil for none.
    public var name: String? {
        switch self {
        case .none: nil
        case .blue: "blue"
        case .white: "white"
        case .red: "red"
        }
    }
}

extension TICTariffSignals {
    /// The period now, from PTEC (historique) or LTARF (standard): `peak`, `off_peak`,
    /// `mobile_peak` (EJP peak day hours), `normal` (EJP normal hours), `base`; nil when
    /// the label says neither.
    public var period: String? {
        if let ptec = currentPeriod {
            switch ptec.prefix(2) {
            case "HP": return "peak"
            case "HC": return "off_peak"
            case "PM": return "mobile_peak"
            case "HN": return "normal"
            case "TH": return "base"
            default: break
            }
        }
        guard let label = currentTariffLabel?.uppercased() else { return nil }
        let words = label.split(whereSeparator: { $0 == " " || $0 == "_" }).map(String.init)
        if words.contains("HP") || label.contains("PLEINE") || label.contains("POINTE") { return "peak" }
        if words.contains("HC") || label.contains("CREUSE") { return "off_peak" }
        if words.contains("BASE") { return "base" }
        return nil
    }

    /// The signals in the shared vocabulary (docs/topics.md), so control reads one set of
    /// names whatever the TIC mode: `tempo_today`, `tempo_tomorrow`, `tariff_period`,
    /// `ejp_notice`, `mobile_peak_start`, `mobile_peak_end`.
    var normalisedValues: [(Quantity, MeasuredValue)] {
        var out: [(Quantity, MeasuredValue)] = []
        if let c = tempoToday?.name { out.append((.tempoToday, .text(c))) }
        if let c = tempoTomorrow?.name { out.append((.tempoTomorrow, .text(c))) }
        if let p = period { out.append((.tariffPeriod, .text(p))) }
        if let n = ejpNoticeMinutes { out.append((.ejpNotice, .number(Double(n)))) }
        if let peak = mobilePeaks.first(where: { $0.start != nil }) {
            out.append((.mobilePeakStart, .time(peak.start?.timestamp)))
            if let end = peak.end { out.append((.mobilePeakEnd, .time(end.timestamp))) }
        }
        return out
    }
}
