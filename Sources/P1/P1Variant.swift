/// Which flavour of P1 a telegram is, as far as the telegram itself tells.
public enum P1Variant: Sendable, Hashable, CustomStringConvertible {
    /// Dutch DSMR 2.2 or 3.0: no version line, no CRC, 7E1 at 9600 Bd, every 10 s.
    case dsmr2or3
    /// DSMR 4.x (`1-3:0.2.8(40|42)`): every 10 s.
    case dsmr4
    /// DSMR 5.x (`1-3:0.2.8(50)`), and its AT/SE relatives: every second.
    case dsmr5
    /// Belgian e-MUCS (Fluvius): `0-0:96.1.4` present. Every second.
    case belgianEMUCS
    /// Luxembourg Smarty (`/Lux` header, or decrypted from a Smarty frame).
    case luxembourgSmarty
    /// Hungarian E.ON Sagemcom: `0-0:42.0.0` without a version line.
    case hungarian
    /// EasyMeter Q3D through a COM-1 gateway: OBIS with `*255`, no CRC.
    case easyMeterQ3D
    /// Has a CRC but none of the markers above.
    case unknownWithCRC

    /// How often the meter sends a telegram, for a "meter lost" timeout (allow at
    /// least twice this). Where sources disagree or say nothing (Smarty: 10 s vs 1 s;
    /// Hungary; Q3D) the longer period is given, so a timeout never fires on a
    /// healthy meter.
    public var nominalPeriod: Duration {
        switch self {
        case .dsmr5, .belgianEMUCS: .seconds(1)
        case .dsmr2or3, .dsmr4, .luxembourgSmarty, .hungarian, .easyMeterQ3D, .unknownWithCRC: .seconds(10)
        }
    }

    /// True when the telegram must end in a CRC (DSMR ≥ 4, e-MUCS, Smarty).
    public var requiresCRC: Bool {
        switch self {
        case .dsmr2or3, .easyMeterQ3D: false
        default: true
        }
    }

    public var description: String {
        switch self {
        case .dsmr2or3: "DSMR 2.2/3"
        case .dsmr4: "DSMR 4"
        case .dsmr5: "DSMR 5"
        case .belgianEMUCS: "e-MUCS (BE)"
        case .luxembourgSmarty: "Smarty (LU)"
        case .hungarian: "DSMR 5 (HU)"
        case .easyMeterQ3D: "EasyMeter Q3D"
        case .unknownWithCRC: "P1 (unknown version, with CRC)"
        }
    }
}
