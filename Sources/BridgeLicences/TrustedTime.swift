import Foundation
import PhasorCore

/// Clock-rollback protection: the latest time the bridge has trusted (the wall
/// clock each time it looked, the issue time of an installed licence), kept on
/// disk. A clock more than `tolerance` behind the mark is wrong (set back by hand,
/// or a dead RTC battery before NTP): licences are then judged at the mark, so
/// setting the clock back never revives an expired licence.
public struct TrustedTime: Sendable, Hashable {
    public var mark: Date
    public static let tolerance: TimeInterval = 24 * 3600

    public init(mark: Date) { self.mark = mark }

    /// The time to judge licences at, and whether the clock is behind.
    public func judge(_ now: Date) -> (at: Date, clockBehind: Bool) {
        now < mark - Self.tolerance ? (mark, true) : (max(now, mark), false)
    }

    /// Moves the mark forward (never back).
    public mutating func advance(to date: Date) { if date > mark { mark = date } }

    // MARK: on disk: one line, an ISO 8601 time.

    public static func load(from path: String) -> TrustedTime? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let date = ISO8601.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))?.date else { return nil }
        return TrustedTime(mark: date)
    }

    /// Written to a temporary file and renamed, so a power cut leaves the old mark or the new one.
    public func save(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = path + ".tmp"
        try Data((ISO8601.format(mark, utcOffsetSeconds: 0) + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}
