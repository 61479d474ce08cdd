/// CRC-16/ARC (polynomial 0x8005 reflected = 0xA001, init 0, no final XOR), the
/// checksum DSMR ≥ 4, e-MUCS and Smarty print after `!`. Table driven because it runs
/// over every byte of every telegram.
public enum CRC16ARC {
    static let table: [UInt16] = (0..<256).map { n -> UInt16 in
        var crc = UInt16(n)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
        return crc
    }

    /// The CRC of `bytes`; `crc("123456789") == 0xBB3D`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        table.withUnsafeBufferPointer { t in
            for b in bytes { crc = (crc >> 8) ^ t[Int(UInt8(truncatingIfNeeded: crc) ^ b)] }
        }
        return crc
    }

    static func checksum(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt16 {
        var crc: UInt16 = 0
        table.withUnsafeBufferPointer { t in
            var i = start
            while i < end {
                crc = (crc >> 8) ^ t[Int(UInt8(truncatingIfNeeded: crc) ^ buffer[i])]
                i += 1
            }
        }
        return crc
    }
}
