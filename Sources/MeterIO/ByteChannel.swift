#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One open connection to a meter: used by a single reader thread, then closed.
public protocol ByteChannel: AnyObject {
    /// Waits up to `timeoutMilliseconds` for bytes. Returns them, `[]` when the
    /// wait timed out, or `nil` at the end of the stream (peer closed, file ended).
    func read(timeoutMilliseconds: Int32) throws(ByteChannelError) -> [UInt8]?
    func close()
}

public struct ByteChannelError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// `what: strerror(errno)`.
    static func posix(_ what: String, _ code: Int32 = errno) -> ByteChannelError {
        ByteChannelError("\(what): \(String(cString: strerror(code)))")
    }
}

/// A channel over a file descriptor (serial port or socket), read with `poll` so
/// the reader thread wakes up regularly to notice cancellation.
final class FileDescriptorChannel: ByteChannel {
    private var fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 4096)

    init(fd: Int32) { self.fd = fd }
    deinit { close() }

    func read(timeoutMilliseconds: Int32) throws(ByteChannelError) -> [UInt8]? {
        guard fd >= 0 else { return nil }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, timeoutMilliseconds)
        if ready < 0 {
            if errno == EINTR { return [] }
            throw .posix("poll")
        }
        if ready == 0 { return [] }
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count > 0 { return Array(buffer[0..<count]) }
        if count == 0 { return nil }
        if errno == EAGAIN || errno == EINTR { return [] }
        // A USB adapter unplugged reads EIO: the caller reopens the device.
        throw .posix("read")
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }
}
