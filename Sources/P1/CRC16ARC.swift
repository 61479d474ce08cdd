/// CRC-16/ARC (polynomial 0x8005 reflected = 0xA001, init 0, no final XOR), the
/// checksum DSMR ≥ 4, e-MUCS and Smarty print after `!`.
///
/// It runs over every byte of every telegram, so it uses slicing-by-16: sixteen
/// table look-ups per 16 bytes, independent of each other but for the first two,
/// instead of a chain of one dependent look-up per byte (slicing-by-8 was 5× faster
/// than that on a 1 kB telegram but still waited on one look-up per 8 bytes: ~10 % of
/// a parse in issue 15's profile).
public enum CRC16ARC {
    /// `tables[k * 256 + i]`: the CRC of byte `i` followed by `k` zero bytes.
    static let tables: [UInt16] = {
        var t = [UInt16](repeating: 0, count: 16 * 256)
        for n in 0..<256 {
            var crc = UInt16(n)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
            t[n] = crc
        }
        for k in 1..<16 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// The CRC of `bytes`; `crc("123456789") == 0xBB3D`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt16 {
        let array = Array(bytes)
        return array.withUnsafeBufferPointer { checksum($0, from: 0, to: $0.count) }
    }

    static func checksum(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt16 {
        tables.withUnsafeBufferPointer { t -> UInt16 in
            var crc: UInt16 = 0
            var i = start
            while end - i >= 16 {
                let x0 = Int(buffer[i] ^ UInt8(truncatingIfNeeded: crc))
                let x1 = Int(buffer[i + 1] ^ UInt8(truncatingIfNeeded: crc >> 8))
                var sum: UInt16 = t[15 * 256 + x0] ^ t[14 * 256 + x1]
                for k in 2..<16 { sum ^= t[(15 - k) * 256 + Int(buffer[i + k])] }
                crc = sum
                i += 16
            }
            while i < end {
                crc = (crc >> 8) ^ t[Int(UInt8(truncatingIfNeeded: crc) ^ buffer[i])]
                i += 1
            }
            return crc
        }
    }
}
