/// The units a P1 value can carry after `*`, compared case-insensitively
/// (Swedish meters print `kVArh`).
enum P1Unit: Sendable {
    case kilowatt, watt, kilowattHour, wattHour
    case kilovar, `var`, kilovarHour, varHour
    case kilovoltAmpere, voltAmpere
    case volt, ampere, hertz, cubicMetre, gigajoule, second
    case other

    static func scan(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> P1Unit {
        // Fold to lower case and pack up to 8 bytes into an integer: no String is built.
        guard range.count <= 8 else { return .other }
        var packed: UInt64 = 0
        for i in range { packed = packed << 8 | UInt64(buf[i] | 0x20) }
        switch packed {
        case pack("kw"): return .kilowatt
        case pack("w"): return .watt
        case pack("kwh"): return .kilowattHour
        case pack("wh"): return .wattHour
        case pack("kvar"): return .kilovar
        case pack("var"): return .var
        case pack("kvarh"): return .kilovarHour
        case pack("varh"): return .varHour
        case pack("kva"): return .kilovoltAmpere
        case pack("va"): return .voltAmpere
        case pack("v"): return .volt
        case pack("a"): return .ampere
        case pack("hz"): return .hertz
        case pack("m3"): return .cubicMetre
        case pack("gj"): return .gigajoule
        case pack("s"): return .second
        default: return .other
        }
    }

    private static func pack(_ s: StaticString) -> UInt64 {
        var packed: UInt64 = 0
        s.withUTF8Buffer { for b in $0 { packed = packed << 8 | UInt64(b | 0x20) } }
        return packed
    }
}

/// What a value measures, which fixes the unit it is published in and how each
/// P1 unit scales into it (powers of ten).
enum P1Dimension: Sendable {
    case activePower  // W
    case activeEnergy  // kWh
    case reactivePower  // var
    case reactiveEnergy  // kvarh
    case apparentPower  // VA
    case voltage, current, frequency, volume, heatEnergy, duration
    /// Counts and ratios: printed without a unit.
    case plain

    /// Power of ten from `unit` into the published unit; `nil` when the unit does not
    /// fit this dimension. A missing unit (placeholders, power factor) means the
    /// unit the DSMR specification prints for this dimension.
    func exponent(from unit: P1Unit?) -> Int? {
        switch (self, unit) {
        case (.activePower, .kilowatt), (.activePower, nil): return 3
        case (.activePower, .watt): return 0
        case (.activeEnergy, .kilowattHour), (.activeEnergy, nil): return 0
        case (.activeEnergy, .wattHour): return -3
        case (.reactivePower, .kilovar), (.reactivePower, nil): return 3
        case (.reactivePower, .var): return 0
        case (.reactiveEnergy, .kilovarHour), (.reactiveEnergy, nil): return 0
        case (.reactiveEnergy, .varHour): return -3
        case (.apparentPower, .kilovoltAmpere), (.apparentPower, nil): return 3
        case (.apparentPower, .voltAmpere): return 0
        case (.voltage, .volt), (.voltage, nil): return 0
        case (.current, .ampere), (.current, nil): return 0
        case (.frequency, .hertz), (.frequency, nil): return 0
        case (.volume, .cubicMetre), (.volume, nil): return 0
        case (.heatEnergy, .gigajoule), (.heatEnergy, nil): return 0
        case (.duration, .second), (.duration, nil): return 0
        case (.plain, nil): return 0
        default: return nil
        }
    }
}
