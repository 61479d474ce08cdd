/// The two TIC modes. Detected from the separator each group uses.
public enum TICMode: Sendable, Hashable, CustomStringConvertible {
    /// Pre-Linky meters and Linky in its factory mode: 1200 Bd 7E1, SP separator,
    /// checksum mode 1 (mode 2 also accepted, as CPT_02E allows it after 2013).
    case historique
    /// Linky standard mode: 9600 Bd 7E1, HT separator, checksum mode 2 only.
    case standard

    public var baudRate: Int { self == .historique ? 1200 : 9600 }
    var separator: UInt8 { self == .historique ? 0x20 : 0x09 }

    public var description: String { self == .historique ? "historique" : "standard" }
}

/// The TIC group checksum: `(sum & 0x3F) + 0x20`.
enum TICChecksum {
    static func compute(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt8 {
        var sum: UInt32 = 0
        for i in range { sum &+= UInt32(buf[i]) }
        return UInt8(sum & 0x3F) + 0x20
    }
}
