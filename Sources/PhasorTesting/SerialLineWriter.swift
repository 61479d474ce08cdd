import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The meter's end of a pty pair: writes whole telegrams, as a UART would put them
/// on the line, and says when the last byte went out.
public final class SerialLineWriter: Sendable {
    private let fd: Int32

    public init(path: String) throws {
        fd = open(path, O_RDWR | O_NOCTTY)
        guard fd >= 0 else { throw ChildProcessError.notReady("open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Writes every byte; returns the instant the last one was handed to the pty.
    @discardableResult
    public func write(_ bytes: [UInt8]) throws -> ContinuousClock.Instant {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ChildProcessError.notReady("write to pty: \(String(cString: strerror(errno)))") }
            offset += n
        }
        return ContinuousClock.now
    }
}
