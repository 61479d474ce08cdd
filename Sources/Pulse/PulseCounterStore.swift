import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A pulse counter on disk, one small file per input, replaced atomically: the
/// new count goes to a temporary file that is fsync'd, renamed over the old one,
/// and the folder is fsync'd. A kill (or power cut) leaves either the old or the
/// new count, never a torn file; saving before a pulse is acknowledged means a
/// restart neither loses nor double-counts it.
public struct PulseCounterStore: Sendable {
    public let path: String

    public init(folder: String, id: String) {
        path = URL(fileURLWithPath: folder).appendingPathComponent("\(id).pulses").path
    }

    public struct StoreError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The saved count; 0 when there is no file yet.
    public func load() throws(StoreError) -> UInt64 {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("pulses "), let count = UInt64(text.dropFirst("pulses ".count)) else {
            throw StoreError(description: "\(path): not a pulse counter ('\(text.prefix(40))')")
        }
        return count
    }

    public func save(_ count: UInt64) throws(StoreError) {
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp"
        let bytes = Array("pulses \(count)\n".utf8)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else { throw failure("cannot write \(temporary)") }
        guard rename(temporary, path) == 0 else { throw failure("cannot rename \(temporary) to \(path)") }
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    public func createFolder() throws(StoreError) {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(description: "cannot create \(folder): \(error.localizedDescription)")
        }
    }

    private func failure(_ what: String) -> StoreError {
        StoreError(description: "\(what): \(String(cString: strerror(errno)))")
    }
}
