import Foundation
import PhasorCore

/// A standard-mode horodate `SAAMMJJhhmmss`: season letter H (winter, UTC+1) or
/// E (summer, UTC+2); lower case means the meter clock is degraded; SP (mobile-peak
/// groups) means not applicable, and the offset is then taken from the EU rule.
public struct TICHorodate: Sendable, Hashable {
    public var timestamp: MeterTimestamp
    /// The meter lost its time and has not resynchronised (`h`/`e`).
    public var clockDegraded: Bool

    static func scan(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> TICHorodate? {
        guard range.count == 13 else { return nil }
        let base = range.lowerBound
        func twoDigits(_ at: Int) -> Int? {
            let hi = buf[base + at] &- 0x30, lo = buf[base + at + 1] &- 0x30
            guard hi < 10, lo < 10 else { return nil }
            return Int(hi) * 10 + Int(lo)
        }
        guard let yy = twoDigits(1), let month = twoDigits(3), let day = twoDigits(5),
            let hour = twoDigits(7), let minute = twoDigits(9), let second = twoDigits(11),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        let offset: Int
        var degraded = false
        switch buf[base] {
        case 0x48: offset = 3600  // H
        case 0x45: offset = 7200  // E
        case 0x68: (offset, degraded) = (3600, true)  // h
        case 0x65: (offset, degraded) = (7200, true)  // e
        case 0x20: offset = EUSummerTime.offset(year: 2000 + yy, month: month, day: day, hour: hour)
        default: return nil
        }
        let date = ISO8601.date(
            year: 2000 + yy, month: month, day: day, hour: hour, minute: minute, second: second,
            utcOffsetSeconds: offset)
        return TICHorodate(timestamp: MeterTimestamp(date: date, utcOffsetSeconds: offset), clockDegraded: degraded)
    }
}

/// Metropolitan France's offset by the EU rule, for horodates whose season is SP.
enum EUSummerTime {
    static func offset(year: Int, month: Int, day: Int, hour: Int) -> Int {
        if month < 3 || month > 10 { return 3600 }
        if month > 3 && month < 10 { return 7200 }
        let days = Int(
            ISO8601.date(year: year, month: month, day: 31, hour: 0, minute: 0, second: 0, utcOffsetSeconds: 0)
                .timeIntervalSince1970 / 86_400)
        let lastSunday = 31 - ((days % 7) + 4 + 7) % 7
        if month == 3 { return day > lastSunday || (day == lastSunday && hour >= 2) ? 7200 : 3600 }
        return day < lastSunday || (day == lastSunday && hour < 3) ? 7200 : 3600
    }
}
