import Foundation
import PhasorCore

#if canImport(Glibc)
import Glibc
#endif

/// A TCP server that streams the same bytes to every connected client, as a P1
/// OUT port or a P1 network dongle does. `broadcast` never blocks: each client has
/// a bounded buffer, a dedicated thread writes it out, and a client whose buffer
/// overflows (too slow, or gone without closing) is dropped and counted.
public final class FanOutServer: Sendable {
    public struct Statistics: Sendable, Hashable {
        public var connectedClients = 0
        public var acceptedClients = 0
        /// Clients dropped because they did not keep up.
        public var droppedSlowClients = 0
    }

    private struct Client {
        var pending: [UInt8] = []
        var sent = 0
        var overflowed = false
    }

    private struct State {
        var clients: [Int32: Client] = [:]
        var statistics = Statistics()
        var stopped = false
    }

    /// The port actually bound (useful when 0 was asked for).
    public let port: Int
    /// The IPv4 address listened on, as the kernel reports it (`127.0.0.1`, `0.0.0.0`).
    public let address: String
    public let perClientBufferBytes: Int
    /// The kernel's send buffer per client, fixed rather than autotuned (which grows
    /// to megabytes): what a stuck client can hold is then known and small.
    public let socketSendBufferBytes: Int32
    private let listener: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let state = Locked(State())
    private let finished = Locked(false)

    /// Binds and listens at once, so a port in use is reported when the service starts.
    /// This machine only: the default address (a meter's readings are private).
    public static let loopback = "127.0.0.1"

    /// Whether `text` is a dotted IPv4 address (`inet_pton`; `inet_addr` would take
    /// `1` or `255.255.255.255` and bind to something unexpected).
    public static func isIPv4Address(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    public init(port: Int, bindAddress: String = loopback, perClientBufferBytes: Int = 256 * 1024,
                socketSendBufferBytes: Int32 = 64 * 1024) throws(ByteChannelError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .posix("socket") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, bindAddress, &addr.sin_addr) == 1 else {
            _ = Glibc.close(fd)
            throw .posix("listen on \(bindAddress):\(port): not an IPv4 address", EINVAL)
        }
        addr.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            throw .posix("listen on \(bindAddress):\(port)", code)
        }
        Self.makeNonBlocking(fd)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            _ = Glibc.close(fd)
            throw .posix("pipe")
        }
        for end in pipeFDs { Self.makeNonBlocking(end) }
        self.listener = fd
        self.wakeRead = pipeFDs[0]
        self.wakeWrite = pipeFDs[1]
        self.port = Int(UInt16(bigEndian: addr.sin_port))
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        self.address = inet_ntop(AF_INET, &addr.sin_addr, &text, socklen_t(text.count)) != nil
            ? String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : bindAddress
        self.perClientBufferBytes = perClientBufferBytes
        self.socketSendBufferBytes = socketSendBufferBytes
        let thread = Thread { [self] in serve() }
        thread.name = "phasor-split :\(self.port)"
        thread.start()
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Queues `bytes` for every client; returns at once.
    public func broadcast(_ bytes: [UInt8]) {
        let anyClient = state.withLock { s -> Bool in
            for (fd, var client) in s.clients where !client.overflowed {
                if client.pending.count - client.sent + bytes.count > perClientBufferBytes {
                    client.overflowed = true
                    client.pending = []
                    client.sent = 0
                } else {
                    client.pending.append(contentsOf: bytes)
                }
                s.clients[fd] = client
            }
            return !s.clients.isEmpty
        }
        if anyClient { wake() }
    }

    /// Closes every client and the listening socket; waits for the thread to end.
    public func stop() {
        state.withLock { $0.stopped = true }
        wake()
        while !finished.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.005) }
    }

    private func wake() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    private func serve() {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let (stopped, snapshot) = state.withLock { s in
                (s.stopped, s.clients.map { (fd: $0.key, wantsWrite: $0.value.pending.count > $0.value.sent) })
            }
            if stopped { break }
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            for c in snapshot {
                fds.append(pollfd(fd: c.fd, events: Int16(POLLIN) | (c.wantsWrite ? Int16(POLLOUT) : 0), revents: 0))
            }
            if poll(&fds, nfds_t(fds.count), 500) < 0, errno != EINTR { break }
            if fds[1].revents != 0 { while read(wakeRead, &scratch, scratch.count) > 0 {} }
            if fds[0].revents & Int16(POLLIN) != 0 { acceptClients() }
            for entry in fds.dropFirst(2) where entry.revents != 0 {
                service(entry, scratch: &scratch)
            }
            dropOverflowed()
        }
        let clients = state.withLock { s in
            let fds = Array(s.clients.keys)
            s.clients = [:]
            s.statistics.connectedClients = 0
            return fds
        }
        for fd in clients { _ = Glibc.close(fd) }
        _ = Glibc.close(listener)
        _ = Glibc.close(wakeRead)
        _ = Glibc.close(wakeWrite)
        finished.withLock { $0 = true }
    }

    private func acceptClients() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            Self.makeNonBlocking(fd)
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            var sendBuffer = socketSendBufferBytes
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
            state.withLock { s in
                s.clients[fd] = Client()
                s.statistics.acceptedClients += 1
                s.statistics.connectedClients = s.clients.count
            }
        }
    }

    /// Reads and discards what a client sends (readers send nothing; a 0-byte read
    /// is its close) and writes out what is pending for it.
    private func service(_ entry: pollfd, scratch: inout [UInt8]) {
        let fd = entry.fd
        if entry.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            let n = read(fd, &scratch, scratch.count)
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
                remove(fd, slow: false)
                return
            }
        }
        guard entry.revents & Int16(POLLOUT) != 0 else { return }
        let failed = state.withLock { s -> Bool in
            guard var client = s.clients[fd] else { return false }
            let n = client.pending[client.sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { return errno != EAGAIN && errno != EINTR }
            client.sent += n
            if client.sent == client.pending.count {
                client.pending.removeAll(keepingCapacity: true)
                client.sent = 0
            } else if client.sent > perClientBufferBytes / 2 {
                client.pending.removeFirst(client.sent)
                client.sent = 0
            }
            s.clients[fd] = client
            return false
        }
        if failed { remove(fd, slow: false) }
    }

    private func dropOverflowed() {
        let slow = state.withLock { s in s.clients.filter { $0.value.overflowed }.map(\.key) }
        for fd in slow { remove(fd, slow: true) }
    }

    private static func makeNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    private func remove(_ fd: Int32, slow: Bool) {
        let removed = state.withLock { s -> Bool in
            guard s.clients.removeValue(forKey: fd) != nil else { return false }
            if slow { s.statistics.droppedSlowClients += 1 }
            s.statistics.connectedClients = s.clients.count
            return true
        }
        if removed { _ = Glibc.close(fd) }
    }
}
