import Foundation

/// Turns register words into numbers and back. Pure functions: the same code
/// decodes what a device sends and encodes what the simulator serves.
public enum RegisterCodec {
    /// Puts words in big-endian order (most significant word first, high byte first).
    static func normalise(_ words: [UInt16], _ order: WordOrder) -> [UInt16] {
        var w = words
        if order.swapsBytes { w = w.map { $0.byteSwapped } }
        if order.swapsWords { w.reverse() }
        return w
    }

    /// The raw bit pattern of an integer or float value, most significant bits first.
    static func bits(_ words: [UInt16]) -> UInt64 {
        words.reduce(UInt64(0)) { ($0 << 16) | UInt64($1) }
    }

    /// The raw integer a register holds (for state decoding and "no value" sentinels).
    public static func rawInteger(_ words: [UInt16], type: DataType, order: WordOrder) -> UInt64? {
        guard let n = type.words, words.count == n, type != .ascii else { return nil }
        return bits(normalise(words, order))
    }

    /// A float32 as the double it means: 6.4782610 rather than 6.4782609939575195, which
    /// is what `Double(float)` gives and what users would otherwise see on MQTT. The
    /// shortest decimal that round-trips the float (its description) is exact enough.
    static func widened(_ f: Float) -> Double {
        guard f.isFinite else { return Double(f) }
        return Double(f.description) ?? Double(f)
    }

    /// Decodes numeric types; `nil` for a wrong word count or a text type.
    public static func decode(_ words: [UInt16], type: DataType, order: WordOrder) -> Double? {
        guard let raw = rawInteger(words, type: type, order: order) else { return nil }
        switch type {
        case .int16: return Double(Int16(truncatingIfNeeded: raw))
        case .uint16, .bool: return Double(UInt16(truncatingIfNeeded: raw))
        case .int32: return Double(Int32(truncatingIfNeeded: raw))
        case .uint32: return Double(UInt32(truncatingIfNeeded: raw))
        case .int64: return Double(Int64(bitPattern: raw))
        case .uint64: return Double(raw)
        case .float32: return widened(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
        case .float64: return Double(bitPattern: raw)
        case .ascii: return nil
        }
    }

    /// Decodes text registers: two characters per word, trailing NULs and blanks dropped.
    public static func decodeText(_ words: [UInt16], order: WordOrder = .abcd) -> String {
        var bytes: [UInt8] = []
        for word in words {
            let w = order.swapsBytes ? word.byteSwapped : word
            bytes.append(UInt8(w >> 8))
            bytes.append(UInt8(w & 0xFF))
        }
        if let end = bytes.firstIndex(of: 0) { bytes.removeSubrange(end...) }
        let text = String(decoding: bytes.filter { $0 < 0x80 }, as: UTF8.self)
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// Encodes text into `words` registers, NUL padded.
    public static func encodeText(_ text: String, words: Int, order: WordOrder = .abcd) -> [UInt16] {
        var bytes = Array(text.utf8.prefix(words * 2))
        bytes += [UInt8](repeating: 0, count: words * 2 - bytes.count)
        return (0..<words).map { i in
            let w = UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1])
            return order.swapsBytes ? w.byteSwapped : w
        }
    }

    /// Encodes a number; integers are rounded and clamped to the type's range so a
    /// simulator or a setpoint never traps on an out-of-range value.
    public static func encode(_ value: Double, type: DataType, order: WordOrder) -> [UInt16] {
        guard let n = type.words, type != .ascii else { return [] }
        let v = value.isFinite ? value.rounded() : 0
        let raw: UInt64
        switch type {
        case .int16: raw = UInt64(UInt16(bitPattern: Int16(clampTo: v)))
        case .uint16, .bool: raw = UInt64(UInt16(clampTo: v))
        case .int32: raw = UInt64(UInt32(bitPattern: Int32(clampTo: v)))
        case .uint32: raw = UInt64(UInt32(clampTo: v))
        case .int64: raw = UInt64(bitPattern: Int64(clampTo: v))
        case .uint64: raw = UInt64(clampTo: v)
        case .float32: raw = UInt64(Float(value).bitPattern)
        case .float64: raw = value.bitPattern
        case .ascii: return []
        }
        let bigEndian = (0..<n).map { i in UInt16(truncatingIfNeeded: raw >> (16 * UInt64(n - 1 - i))) }
        // normalise is its own inverse for each order.
        return normalise(bigEndian, order)
    }

    /// The "not available" markers devices send (SunSpec, SMA, Huawei, evcc's `…nan` types).
    public static func isNotAvailable(_ words: [UInt16], type: DataType, order: WordOrder) -> Bool {
        if type.isFloat { return decode(words, type: type, order: order)?.isNaN ?? false }
        guard let raw = rawInteger(words, type: type, order: order) else { return false }
        switch type {
        case .int16: return raw == 0x8000 || raw == 0x7FFF
        case .uint16: return raw == 0xFFFF
        case .int32: return raw == 0x8000_0000
        case .uint32: return raw == 0xFFFF_FFFF
        case .int64: return raw == 0x8000_0000_0000_0000
        case .uint64: return raw == UInt64.max
        default: return false
        }
    }
}

extension FixedWidthInteger {
    /// Converts a whole Double, clamping instead of trapping when out of range.
    init(clampTo value: Double) {
        if value.isNaN { self = 0 } else if value <= Double(Self.min) { self = .min } else if value >= Double(Self.max) {
            self = .max
        } else { self = Self(value) }
    }
}
