import Control
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What control writes to disk: its whole `ControlState` (quarter energy, month
/// peak, sessions, operator settings), and when.
struct StateDocument: Codable, Equatable, Sendable {
    static let currentFormat = 1
    var format: Int
    var savedAt: Date
    var state: ControlState
    /// The house loads' state (`control.house`): the heat pump's Off accounting and the
    /// operators' overrides. Absent in files written before it, or without a house.
    var house: HouseState? = nil
}

/// One JSON file, replaced atomically: written beside the old one, flushed to disk,
/// then renamed over it (and the directory flushed), so a power cut leaves either
/// the old state or the new one, never half a file.
struct StateFile: Sendable {
    let url: URL

    /// `<directory>/control-<site>.json`: several sites may share a machine.
    init(directory: String, site: String) {
        url = URL(fileURLWithPath: directory).appendingPathComponent("control-\(site).json")
    }

    /// The saved document, or nil when there is none yet.
    func load() throws -> StateDocument? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let document = try decoder.decode(StateDocument.self, from: Data(contentsOf: url))
        guard document.format == StateDocument.currentFormat else {
            throw StateFileError("\(url.path): format \(document.format), expected \(StateDocument.currentFormat)")
        }
        return document
    }

    func save(_ document: StateDocument) throws {
        let encoder = JSONEncoder()
        // Seconds as a double keep sub-second times exact across a restart.
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try encoder.encode(document)
        let directory = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = url.path + ".tmp"
        try writeDurably(bytes, to: temporary)
        guard rename(temporary, url.path) == 0 else { throw StateFileError.posix("rename \(temporary)") }
        // The rename itself is only durable once the directory entry is on disk.
        let dir = open(directory, O_RDONLY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    private func writeDurably(_ bytes: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw StateFileError.posix("open \(path)") }
        defer { close(fd) }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StateFileError.posix("write \(path)")
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw StateFileError.posix("fsync \(path)") }
    }
}

struct StateFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
    static func posix(_ what: String) -> StateFileError { StateFileError("\(what): \(String(cString: strerror(errno)))") }
}
