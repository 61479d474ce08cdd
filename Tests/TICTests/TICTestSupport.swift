import Foundation
import PhasorCore
import TIC
import Testing

let receivedAt = Date(timeIntervalSince1970: 1_700_000_000)

/// Frames a fixture and parses its only frame.
func parseFrame(_ path: String) throws -> TICFrame {
    var framer = TICFramer()
    let frames = framer.append(try FixtureFiles.bytes(path))
    try #require(frames.count == 1, "\(path): \(frames.count) frames")
    return try TICParser.parse(frames[0], receivedAt: receivedAt)
}

extension Reading {
    func text(_ q: Quantity) -> String? { self[q]?.text }
    func timeString(_ q: Quantity) -> String? {
        guard case .time(let t)? = self[q] else { return nil }
        return t?.iso8601 ?? "nil"
    }
}

/// Builds a frame from groups written as `label SEP data` (checksum added here).
func makeFrame(_ groups: [String], separator: Character, checksumMode2: Bool) -> [UInt8] {
    var bytes: [UInt8] = [0x02]
    for g in groups {
        let body = Array(g.utf8)
        let zone = checksumMode2 ? body + [UInt8(ascii: separator.asciiValue.map { Unicode.Scalar($0) } ?? " ")] : body
        let sum = zone.reduce(0) { $0 &+ UInt32($1) }
        bytes += [0x0A] + body + [separator.asciiValue ?? 0x20, UInt8(sum & 0x3F) + 0x20, 0x0D]
    }
    return bytes + [0x03]
}
