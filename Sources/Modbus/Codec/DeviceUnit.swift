import PhasorCore

/// The unit a device reports a value in (after the register's scale), and how to
/// convert it into the one unit the quantity catalogue publishes.
public enum DeviceUnit: String, Sendable, Hashable, Codable, CaseIterable {
    case W, kW, MW
    case Wh, kWh, MWh
    case VA, kVA, varUnit = "var", kvar
    case varh, kvarh, VAh, kVAh
    case V, kV, A, mA, Hz
    case percent = "%", celsius = "°C"
    case s, ms, min
    case ratio = ""
    case count
    case none

    /// Catalogue unit and the factor that converts into it.
    var canonical: (unit: Unit, factor: Double) {
        switch self {
        case .W: (.watt, 1)
        case .kW: (.watt, 1000)
        case .MW: (.watt, 1_000_000)
        case .Wh: (.kilowattHour, 0.001)
        case .kWh: (.kilowattHour, 1)
        case .MWh: (.kilowattHour, 1000)
        case .VA: (.voltAmpere, 1)
        case .kVA: (.voltAmpere, 1000)
        case .varUnit: (.voltAmpereReactive, 1)
        case .kvar: (.voltAmpereReactive, 1000)
        case .varh: (.kilovarHour, 0.001)
        case .kvarh: (.kilovarHour, 1)
        // No kVAh unit in the catalogue: apparent energy stays in the device's unit.
        case .VAh: (.none, 1)
        case .kVAh: (.none, 1)
        case .V: (.volt, 1)
        case .kV: (.volt, 1000)
        case .A: (.ampere, 1)
        case .mA: (.ampere, 0.001)
        case .Hz: (.hertz, 1)
        case .percent: (.percent, 1)
        case .celsius: (.celsius, 1)
        case .s: (.second, 1)
        case .ms: (.second, 0.001)
        case .min: (.second, 60)
        case .ratio: (.ratio, 1)
        case .count: (.count, 1)
        case .none: (.none, 1)
        }
    }

    /// Factor converting this unit into `target`, or nil when they measure different things.
    public func factor(to target: Unit) -> Double? {
        let (unit, factor) = canonical
        if unit == target { return factor }
        // Power factor may be given in % (SunSpec) while the catalogue uses a ratio.
        if self == .percent && target == .ratio { return 0.01 }
        return nil
    }
}
