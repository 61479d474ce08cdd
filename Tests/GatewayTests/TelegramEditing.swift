/// Makes variants of a fixture telegram with a valid CRC, for tests that need
/// values to change from one telegram to the next.
enum TelegramEditing {
    /// Replaces `old` by `new` (same protocol text) and recomputes the CRC after `!`.
    static func replacing(_ old: String, with new: String, in telegram: [UInt8]) -> [UInt8] {
        var text = String(decoding: telegram, as: UTF8.self)
        text = text.replacingOccurrences(of: old, with: new)
        let body = Array(text.utf8)
        guard let bang = body.firstIndex(of: UInt8(ascii: "!")) else { return body }
        let crc = crc16ARC(body[...bang])
        let hex = String(crc, radix: 16, uppercase: true)
        return Array(body[...bang]) + Array((String(repeating: "0", count: 4 - hex.count) + hex + "\r\n").utf8)
    }

    /// CRC-16/ARC (poly 0x8005 reflected, init 0), as P1 uses: written here from
    /// the definition, independent of the parser's implementation.
    static func crc16ARC(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for b in bytes {
            crc ^= UInt16(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
        }
        return crc
    }
}
