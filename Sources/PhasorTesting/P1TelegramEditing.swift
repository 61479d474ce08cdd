import Foundation

/// Makes variants of a P1 telegram with a valid CRC, for tests and benchmarks that
/// need values to change from one telegram to the next.
public enum P1TelegramEditing {
    /// Replaces `old` by `new` and recomputes the CRC after `!`.
    public static func replacing(_ old: String, with new: String, in telegram: [UInt8]) -> [UInt8] {
        let text = String(decoding: telegram, as: UTF8.self).replacingOccurrences(of: old, with: new)
        let body = Array(text.utf8)
        guard let bang = body.firstIndex(of: UInt8(ascii: "!")) else { return body }
        let hex = String(crc16ARC(body[...bang]), radix: 16, uppercase: true)
        return Array(body[...bang]) + Array((String(repeating: "0", count: 4 - hex.count) + hex + "\r\n").utf8)
    }

    /// CRC-16/ARC (poly 0x8005 reflected, init 0), as P1 uses: written here from
    /// the definition, independent of the parser's implementation.
    public static func crc16ARC(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for b in bytes {
            crc ^= UInt16(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
        }
        return crc
    }
}
