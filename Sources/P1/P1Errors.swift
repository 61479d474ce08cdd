/// Why a whole telegram was rejected. The gateway counts these per kind.
public enum P1TelegramError: Error, Sendable, Hashable {
    /// No `/` … `!` in the bytes.
    case notATelegram
    /// The printed CRC does not match the bytes `/` … `!`.
    case crcMismatch(printed: UInt16, computed: UInt16)
    /// The version requires a CRC (DSMR ≥ 4, e-MUCS, Smarty) but none was printed.
    case missingCRC(P1Variant)
}

/// A problem confined to one line: the line is skipped, the rest of the telegram is published.
public struct P1LineIssue: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The line is not `OBIS(value)…` (e.g. a missing `)`).
        case malformedLine
        /// The value is not a number where one is required (`0001a5.123`).
        case invalidValue
        /// The unit does not fit the object (`m3` on a power register).
        case unexpectedUnit
        /// The object has the wrong number of value groups for its meaning.
        case unexpectedShape
    }
    public var kind: Kind
    /// The line as printed (Latin-1 decoded).
    public var line: String

    public init(kind: Kind, line: String) {
        self.kind = kind
        self.line = line
    }
}

/// Why a Smarty frame could not be turned into a telegram.
public enum SmartyFrameError: Error, Sendable, Hashable {
    case notAFrame
    case unsupportedSecurityControl(UInt8)
    /// The GCM tag did not verify: wrong key or authentication key, or corruption.
    case authenticationFailed
    case invalidKey
}
