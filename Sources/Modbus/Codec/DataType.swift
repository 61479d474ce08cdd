/// How the words of a register value are laid out.
public enum DataType: String, Sendable, Hashable, Codable, CaseIterable {
    case int16, uint16, int32, uint32, int64, uint64, float32, float64
    /// Text, two ASCII characters per register, high byte first; needs `words`.
    case ascii
    /// A coil or discrete input.
    case bool

    /// Registers the value takes (`ascii` has no fixed size).
    public var words: Int? {
        switch self {
        case .int16, .uint16: 1
        case .int32, .uint32, .float32: 2
        case .int64, .uint64, .float64: 4
        case .bool: 1
        case .ascii: nil
        }
    }

    public var isSigned: Bool { self == .int16 || self == .int32 || self == .int64 }
    public var isFloat: Bool { self == .float32 || self == .float64 }
}

/// Word and byte order of multi-register values, named by where bytes A (most
/// significant) … D land: `abcd` big-endian (most vendors), `cdab` low word first
/// (Sungrow, Solax, Phoenix), `badc` and `dcba` the byte-swapped variants.
/// For 64-bit values `cdab` means the least significant word comes first.
public enum WordOrder: String, Sendable, Hashable, Codable, CaseIterable {
    case abcd, cdab, badc, dcba

    var swapsWords: Bool { self == .cdab || self == .dcba }
    var swapsBytes: Bool { self == .badc || self == .dcba }
}
