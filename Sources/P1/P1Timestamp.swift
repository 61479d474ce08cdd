import Foundation
import PhasorCore

/// `YYMMDDhhmmssX` meter timestamps: `S` = summer time (UTC+2), `W` = winter time (UTC+1).
enum P1Timestamp {
    enum Parsed {
        case time(MeterTimestamp)
        /// A "no value" placeholder (`632525252525W`, `000101010000W`, `700101010000W`).
        case placeholder
    }

    /// Parses a 12- or 13-character timestamp; nil when it is not one at all.
    /// DSMR 2.2/3 send 12 digits without the season letter: the offset then follows
    /// the EU summer-time rule for Central European Time (NL/BE/LU meters).
    static func scan(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Parsed? {
        guard range.count == 12 || range.count == 13 else { return nil }
        let base = range.lowerBound
        func twoDigits(_ at: Int) -> Int? {
            let hi = buf[base + at], lo = buf[base + at + 1]
            guard ASCII.isDigit(hi), ASCII.isDigit(lo) else { return nil }
            return Int(hi - ASCII.zero) * 10 + Int(lo - ASCII.zero)
        }
        guard let yy = twoDigits(0), let month = twoDigits(2), let day = twoDigits(4),
            let hour = twoDigits(6), let minute = twoDigits(8), let second = twoDigits(10)
        else { return nil }
        let i = base + 12
        var offset: Int?
        if range.count == 13 {
            switch buf[i] {
            case 0x53, 0x73: offset = 7200  // S
            case 0x57, 0x77: offset = 3600  // W
            default: return nil
            }
        }
        if isPlaceholder(yy: yy, month: month, day: day, hour: hour, minute: minute, second: second) {
            return .placeholder
        }
        let year = 2000 + yy
        let utcOffset =
            offset ?? CentralEuropeanTime.offset(year: year, month: month, day: day, hour: hour)
        let date = ISO8601.date(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second,
            utcOffsetSeconds: utcOffset)
        return .time(MeterTimestamp(date: date, utcOffsetSeconds: utcOffset))
    }

    private static func isPlaceholder(yy: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Bool {
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else {
            return true
        }
        // Seen for empty channels: 2000-01-01 01:00 (L+G) and 1970-01-01 01:00 (Iskra).
        return (yy == 0 || yy == 70) && month == 1 && day == 1 && minute == 0 && second == 0 && hour <= 1
    }
}

/// The EU daylight-saving rule (last Sunday of March 01:00 UTC to last Sunday of
/// October 01:00 UTC), for timestamps that come without their season letter.
enum CentralEuropeanTime {
    static func offset(year: Int, month: Int, day: Int, hour: Int) -> Int {
        if month < 3 || month > 10 { return 3600 }
        if month > 3 && month < 10 { return 7200 }
        let lastSunday = lastSundayOf(year: year, month: month)
        if month == 3 {
            // Switch at 02:00 local winter time.
            return day > lastSunday || (day == lastSunday && hour >= 2) ? 7200 : 3600
        }
        // October: back at 03:00 local summer time; the repeated hour is read as summer.
        return day < lastSunday || (day == lastSunday && hour < 3) ? 7200 : 3600
    }

    private static func lastSundayOf(year: Int, month: Int) -> Int {
        // Day of week of the 31st (both March and October have 31 days); 1970-01-01 was a Thursday.
        let days = ISO8601.date(year: year, month: month, day: 31, hour: 0, minute: 0, second: 0, utcOffsetSeconds: 0)
            .timeIntervalSince1970 / 86_400
        let weekday = ((Int(days) % 7) + 4 + 7) % 7  // 0 = Sunday
        return 31 - weekday
    }
}
