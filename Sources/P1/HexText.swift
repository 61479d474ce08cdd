/// P1 prints equipment ids and messages as hex-encoded ASCII (`4B384547` = "K8EG").
enum HexText {
    /// The decoded text when the group is hex of printable ASCII; otherwise the
    /// group as printed (some devices print their id in plain text, e.g. Warmtelink).
    static func decode(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        guard range.count % 2 == 0 else { return ASCII.latin1(buf, range) }
        var text = String()
        text.reserveCapacity(range.count / 2)
        var i = range.lowerBound
        while i < range.upperBound {
            guard let hi = ASCII.hexValue(buf[i]), let lo = ASCII.hexValue(buf[i + 1]) else {
                return ASCII.latin1(buf, range)
            }
            let byte = hi << 4 | lo
            guard byte >= 0x20, byte < 0x7F else { return ASCII.latin1(buf, range) }
            text.unicodeScalars.append(Unicode.Scalar(byte))
            i += 2
        }
        return text
    }
}
