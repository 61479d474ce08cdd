import Foundation

/// ISO 8601 with an explicit offset, formatted without Foundation's formatter
/// objects (they are not Sendable and are slow on the telegram hot path).
public enum ISO8601 {
    /// Formats `date` as local time at `utcOffsetSeconds`: `2026-03-29T02:15:00+02:00`
    /// (fractional seconds only when present).
    public static func format(_ date: Date, utcOffsetSeconds: Int) -> String {
        // Rounded to the millisecond before splitting: 0.9996 s past a second is the
        // next second, not this one (the fraction would otherwise round to 1000 and be lost).
        let totalMillis = ((date.timeIntervalSince1970 + Double(utcOffsetSeconds)) * 1000).rounded()
        let whole = floor(totalMillis / 1000)
        let millis = Int(totalMillis - whole * 1000)
        let (y, mo, d, h, mi, s) = civil(fromUnixSeconds: Int64(whole))
        var out = "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))"
        if millis > 0 { out += ".\(pad(millis, 3))" }
        if utcOffsetSeconds == 0 { return out + "Z" }
        let sign = utcOffsetSeconds < 0 ? "-" : "+"
        let off = abs(utcOffsetSeconds) / 60
        return out + "\(sign)\(pad(off / 60, 2)):\(pad(off % 60, 2))"
    }

    /// Unix seconds for a local civil time at a given offset.
    public static func date(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, utcOffsetSeconds: Int
    ) -> Date {
        let days = daysFromCivil(year: year, month: month, day: day)
        let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(utcOffsetSeconds)
        return Date(timeIntervalSince1970: TimeInterval(secs))
    }

    /// Parses what `format` writes (and any `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`);
    /// nil for anything else.
    public static func parse(_ text: String) -> MeterTimestamp? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":")
        else { return nil }
        func int(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = int(0..<4), let mo = int(5..<7), let d = int(8..<10), let h = int(11..<13),
            let mi = int(14..<16), let s = int(17..<19), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60,
            s < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == UInt8(ascii: ".") {
            var scale = 0.1
            i += 1
            let start = i
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        let offset: Int
        if b[i] == UInt8(ascii: "Z") && i + 1 == b.count {
            offset = 0
        } else if (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) && i + 6 == b.count
            && b[i + 3] == UInt8(ascii: ":"), let oh = int(i + 1..<i + 3), let om = int(i + 4..<i + 6)
        {
            offset = (b[i] == UInt8(ascii: "-") ? -1 : 1) * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        let whole = date(year: y, month: mo, day: d, hour: h, minute: mi, second: s, utcOffsetSeconds: offset)
        return MeterTimestamp(date: whole.addingTimeInterval(fraction), utcOffsetSeconds: offset)
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    // Howard Hinnant's days-from-civil algorithms (public domain), proleptic Gregorian.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromUnixSeconds t: Int64) -> (Int, Int, Int, Int, Int, Int) {
        var days = t / 86_400
        var rem = t % 86_400
        if rem < 0 { rem += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d), Int(rem / 3600), Int(rem % 3600 / 60), Int(rem % 60))
    }
}
