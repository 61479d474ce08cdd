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
