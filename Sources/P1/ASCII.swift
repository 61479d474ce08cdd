#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte constants of the P1 text format, so the scanners read as the spec does.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let nul: UInt8 = 0x00
    static let slash: UInt8 = 0x2F  // "/": start of a telegram
    static let bang: UInt8 = 0x21  // "!": end of the CRC zone
    static let openParen: UInt8 = 0x28
    static let closeParen: UInt8 = 0x29
    static let star: UInt8 = 0x2A
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A
    static let zero: UInt8 = 0x30

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    /// Value of a hex digit (either case), or nil.
    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    /// Index of the first `byte` at or after `start` (memchr: vectorised).
    static func find(_ byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = buffer.baseAddress, start < buffer.count,
            let hit = memchr(base + start, Int32(byte), buffer.count - start)
        else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    /// Latin-1 decoding: every byte becomes one character, so odd header bytes
    /// (0x02, 0xAB in some published telegrams) survive instead of becoming U+FFFD.
    static func latin1(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let bytes = UnsafeBufferPointer(rebasing: buffer[range])
        // Fast path: plain ASCII is valid UTF-8 as it stands.
        if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        var s = String()
        s.reserveCapacity(range.count * 2)
        for b in bytes { s.unicodeScalars.append(Unicode.Scalar(b)) }
        return s
    }
}
