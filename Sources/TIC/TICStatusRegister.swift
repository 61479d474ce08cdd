/// The Linky STGE status register (32 bits, sent as 8 hex digits), field by field (reference B7).
public struct TICStatusRegister: Sendable, Hashable {
    public enum BreakerState: Int, Sendable, Hashable {
        case closed = 0, openOverPower, openOverVoltage, openLoadShedding, openByCPLOrEuridis
        case openOverheatingAboveMaximumCurrent, openOverheatingBelowMaximumCurrent
        case unknown = 7
    }
    public enum EuridisOutput: Sendable, Hashable { case off, onWithoutSecurity, onWithSecurity, unknown }
    public enum CPLStatus: Sendable, Hashable { case newUnlocked, newLocked, registered, unknown }

    public var raw: UInt32
    /// Bit 0: the dry contact (the physical relay) is open.
    public var dryContactOpen: Bool { raw & 1 != 0 }
    /// Bits 1-3.
    public var breaker: BreakerState { BreakerState(rawValue: Int(raw >> 1 & 7)) ?? .unknown }
    /// Bit 4: the distributor terminal cover is open.
    public var terminalCoverOpen: Bool { raw >> 4 & 1 != 0 }
    /// Bit 6.
    public var overVoltage: Bool { raw >> 6 & 1 != 0 }
    /// Bit 7: the reference power is being exceeded.
    public var referencePowerExceeded: Bool { raw >> 7 & 1 != 0 }
    /// Bit 8: producer meter.
    public var isProducer: Bool { raw >> 8 & 1 != 0 }
    /// Bit 9: active energy flows out (injection).
    public var isInjecting: Bool { raw >> 9 & 1 != 0 }
    /// Bits 10-13: supplier tariff index now in use, 1…10.
    public var supplierTariffIndex: Int { Int(raw >> 10 & 0xF) + 1 }
    /// Bits 14-15: distributor tariff index now in use, 1…4.
    public var distributorTariffIndex: Int { Int(raw >> 14 & 0x3) + 1 }
    /// Bit 16.
    public var clockDegraded: Bool { raw >> 16 & 1 != 0 }
    /// Bit 17: the meter says which TIC mode it is in.
    public var mode: TICMode { raw >> 17 & 1 != 0 ? .standard : .historique }
    /// Bits 19-20.
    public var euridisOutput: EuridisOutput {
        switch raw >> 19 & 3 {
        case 0: .off
        case 1: .onWithoutSecurity
        case 3: .onWithSecurity
        default: .unknown
        }
    }
    /// Bits 21-22.
    public var cplStatus: CPLStatus {
        switch raw >> 21 & 3 {
        case 0: .newUnlocked
        case 1: .newLocked
        case 2: .registered
        default: .unknown
        }
    }
    /// Bit 23.
    public var cplSynchronised: Bool { raw >> 23 & 1 != 0 }
    /// Bits 24-25 / 26-27.
    public var tempoColourToday: TempoColour { TempoColour(code: Int(raw >> 24 & 3)) }
    public var tempoColourTomorrow: TempoColour { TempoColour(code: Int(raw >> 26 & 3)) }
    /// Bits 28-29: mobile peak announced (1…3), nil when none.
    public var mobilePeakNotice: Int? { raw >> 28 & 3 == 0 ? nil : Int(raw >> 28 & 3) }
    /// Bits 30-31: mobile peak in progress (1…3), nil when none.
    public var mobilePeakActive: Int? { raw >> 30 & 3 == 0 ? nil : Int(raw >> 30 & 3) }

    public init(raw: UInt32) { self.raw = raw }

    /// `"013A0501"` → register; nil unless exactly 8 hex digits.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 8, let v = UInt32(hex, radix: 16) else { return nil }
        raw = v
    }
}

/// Tempo day colour (STGE, DEMAIN, PTEC).
public enum TempoColour: Sendable, Hashable {
    case none, blue, white, red

    init(code: Int) {
        switch code {
        case 1: self = .blue
        case 2: self = .white
        case 3: self = .red
        default: self = .none
        }
    }

    /// DEMAIN: `----`, `BLEU`, `BLAN`, `ROUG`.
    init?(demain: String) {
        switch demain {
        case "----": self = .none
        case "BLEU": self = .blue
        case "BLAN": self = .white
        case "ROUG": self = .red
        default: return nil
        }
    }
}
