/// P1 prints equipment ids and messages as hex-encoded ASCII (`4B384547` = "K8EG").
enum HexText {
    /// The decoded text when the group is hex of printable ASCII; otherwise the
    /// group as printed (some devices print their id in plain text, e.g. Warmtelink).
    static func decode(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        guard range.count % 2 == 0 else { return ASCII.latin1(buf, range) }
        var valid = true
        let decoded = String(unsafeUninitializedCapacity: range.count / 2) { out -> Int in
            var i = range.lowerBound
            var n = 0
            while i < range.upperBound {
                guard let hi = ASCII.hexValue(buf[i]), let lo = ASCII.hexValue(buf[i + 1]), (hi << 4 | lo) >= 0x20,
                    (hi << 4 | lo) < 0x7F
                else {
                    valid = false
                    return 0
                }
                let byte = hi << 4 | lo
                out[n] = byte
                n += 1
                i += 2
            }
            return n
        }
        return valid ? decoded : ASCII.latin1(buf, range)
    }
}
