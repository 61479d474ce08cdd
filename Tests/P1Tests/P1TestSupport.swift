import Foundation
import P1
import PhasorCore
import Testing

/// Frames a fixture and parses its only telegram.
func parseFixture(_ path: String, verifyCRC: Bool = true) throws -> P1Telegram {
    var framer = P1Framer()
    let telegrams = framer.append(try FixtureFiles.bytes(path))
    try #require(telegrams.count == 1, "\(path): \(telegrams.count) telegrams")
    return try P1Parser.parse(telegrams[0], options: P1ParseOptions(verifyCRC: verifyCRC), receivedAt: receivedAt)
}

/// Receive time used where the telegram carries no meter clock.
let receivedAt = Date(timeIntervalSince1970: 1_700_000_000)

extension Reading {
    func text(_ q: Quantity) -> String? { self[q]?.text }
    /// The ISO 8601 form of a `.time` value; `"nil"` for a placeholder, nil when absent.
    func timeString(_ q: Quantity) -> String? {
        guard case .time(let t)? = self[q] else { return nil }
        return t?.iso8601 ?? "nil"
    }
}
