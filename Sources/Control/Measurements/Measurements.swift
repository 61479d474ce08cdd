import Foundation
import PhasorCore

/// What one meter last said, reduced to what control needs.
public struct MeterSample: Sendable, Equatable {
    /// When the reading was taken (freshness is judged against the node's timeout).
    public var time: Date
    /// Signed per-phase currents, A, positive = import. `nil` when the meter sent none.
    public var currents: PhaseCurrents?
    /// Signed total power, W, positive = import.
    public var power: Double?
    /// 1-0:1.4.0, the quarter's energy so far expressed as an average over the whole quarter, W.
    public var quarterHourAverage: Double?
    /// 1-0:1.6.0, the month's highest quarter-hour average so far, W.
    public var monthPeak: Double?

    public init(
        time: Date, currents: PhaseCurrents? = nil, power: Double? = nil, quarterHourAverage: Double? = nil,
        monthPeak: Double? = nil
    ) {
        self.time = time
        self.currents = currents
        self.power = power
        self.quarterHourAverage = quarterHourAverage
        self.monthPeak = monthPeak
    }

    /// Reads the catalogue quantities of a gateway reading.
    ///
    /// P1 meters give current magnitudes (`current_l1`); the direction comes from
    /// the per-phase power (`power_l1`, or `power_import_l1` − `power_export_l1`), so
    /// a phase that exports PV counts as negative load.
    public init(reading: Reading) {
        /// `power`, else `power_import` − `power_export`; `phase` 1…3 for the per-phase variants.
        func signedPower(phase: Int?) -> Double? {
            func q(_ base: Quantity) -> Quantity { phase.map { base.phase($0) } ?? base }
            if let p = reading.number(q(.power)) { return p }
            let imp = reading.number(q(.powerImport))
            let exp = reading.number(q(.powerExport))
            if imp == nil && exp == nil { return nil }
            return (imp ?? 0) - (exp ?? 0)
        }
        var currents: PhaseCurrents? = nil
        if let i1 = reading.number(Quantity.current.phase(1)), let i2 = reading.number(Quantity.current.phase(2)),
            let i3 = reading.number(Quantity.current.phase(3))
        {
            var c = PhaseCurrents(i1, i2, i3)
            for p in 0..<3 {
                if let pw = signedPower(phase: p + 1), pw < 0 { c[p] = -abs(c[p]) }
            }
            currents = c
        }
        self.init(
            time: reading.time.date, currents: currents, power: signedPower(phase: nil),
            quarterHourAverage: reading.number(.powerImportQuarterHourAverage),
            monthPeak: reading.number(.powerImportMonthPeak))
    }
}

/// What one charger last said.
public struct ChargerSample: Sendable, Equatable {
    public var time: Date
    /// The charger answers (the gateway's availability); `false` = it runs on its safe current.
    public var online: Bool
    /// A car is plugged in and wants to charge.
    public var connected: Bool
    /// Currents on the charger's terminals 1-2-3, A. `nil` when the charger does not measure.
    public var currents: PhaseCurrents?

    public init(time: Date, online: Bool = true, connected: Bool, currents: PhaseCurrents? = nil) {
        self.time = time
        self.online = online
        self.connected = connected
        self.currents = currents
    }
}

/// Everything measured, as the service last received it, keyed by device id.
public struct Measurements: Sendable, Equatable {
    public var meters: [String: MeterSample]
    public var chargers: [String: ChargerSample]

    public init(meters: [String: MeterSample] = [:], chargers: [String: ChargerSample] = [:]) {
        self.meters = meters
        self.chargers = chargers
    }
}
