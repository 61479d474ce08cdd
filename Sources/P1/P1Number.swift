/// A decimal number as P1 prints it (`000015.758`, `-063`), kept exact as an integer
/// mantissa and a count of decimals until it is scaled into the published unit.
struct P1Number {
    var mantissa: Int64
    var decimals: Int

    /// Parses `[-]digits[.digits]`, nothing else; at most 18 digits so it never overflows.
    static func scan(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> P1Number? {
        let (number, unit) = scan(buf, valueAndUnit: range)
        return unit == nil ? number : nil
    }

    /// `value*unit` in one pass: the number before the first `*` (nil unless it is
    /// `[-]digits[.digits]` with at most 18 digits) and the bytes after that `*`
    /// (nil without one). The same as splitting at the first `*` and scanning the
    /// left part, without walking the bytes twice.
    static func scan(
        _ buf: UnsafeBufferPointer<UInt8>, valueAndUnit range: Range<Int>
    ) -> (number: P1Number?, unit: Range<Int>?) {
        var i = range.lowerBound
        let end = range.upperBound
        var negative = false
        if i < end, buf[i] == ASCII.minus {
            negative = true
            i += 1
        }
        var mantissa: Int64 = 0
        var digits = 0
        var decimals = 0
        var seenDot = false
        var valid = true
        while i < end {
            let b = buf[i]
            if ASCII.isDigit(b) {
                if digits < 18 {
                    mantissa = mantissa * 10 + Int64(b - ASCII.zero)
                    digits += 1
                    if seenDot { decimals += 1 }
                } else {
                    valid = false
                }
            } else if b == ASCII.dot, !seenDot {
                seenDot = true
            } else if b == ASCII.star {
                break
            } else {
                valid = false
            }
            i += 1
        }
        let unit = i < end ? (i + 1)..<end : nil
        guard valid, digits > 0 else { return (nil, unit) }
        return (P1Number(mantissa: negative ? -mantissa : mantissa, decimals: decimals), unit)
    }

    private static let powersOfTen: [Double] = (0...22).map { e in
        var v = 1.0
        for _ in 0..<e { v *= 10 }
        return v
    }

    /// The value multiplied by 10^`exponent`. Either one exact multiplication or one
    /// correctly rounded division, so `2.351 kW` becomes exactly `2351` W and
    /// `15.758` is the same double `Double("15.758")` gives.
    func scaled(byPowerOfTen exponent: Int) -> Double {
        let shift = exponent - decimals
        if shift >= 0 {
            return Double(mantissa) * Self.powersOfTen[min(shift, 22)]
        }
        return Double(mantissa) / Self.powersOfTen[min(-shift, 22)]
    }

    var value: Double { scaled(byPowerOfTen: 0) }
}
