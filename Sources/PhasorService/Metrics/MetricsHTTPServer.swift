import Glibc
import PhasorCore

/// The smallest HTTP/1.1 server `/metrics` needs, on plain POSIX sockets and one thread
/// of its own: one connection at a time, `GET <path>` answered and the connection closed
/// (`Connection: close`; Prometheus and curl reconnect per scrape). It replaces an HTTP
/// framework whose `FoundationNetworking` import loaded libcurl and its TLS, LDAP and
/// Kerberos libraries into every service (~4 MB RSS each; docs/performance.md).
final class MetricsHTTPServer: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Response: Sendable {
        var status: Int
        var contentType: String
        var body: [UInt8]
    }

    /// The longest request head read; a scrape's is a few hundred bytes.
    static let maximumRequestBytes = 8192
    /// A client that sends or reads nothing for this long is dropped.
    static let clientTimeoutSeconds = 2

    private let listener: Int32
    /// The port bound (the one asked for, or the kernel's choice for 0).
    let port: Int
    private let stopped = Locked(false)
    private let finished = Locked(Finished())

    private struct Finished {
        var done = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Binds and listens at once, so a busy port or a bad address is an error here.
    init(bind: String, port: Int) throws(Failure) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port)).bigEndian
        guard (1...65535).contains(port) || port == 0, inet_pton(AF_INET, bind, &address.sin_addr) == 1 else {
            throw Failure(description: "cannot listen on \(bind):\(port): not an IPv4 address and port")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(Self.lastError())") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let error = Self.lastError()
            close(fd)
            throw Failure(description: "cannot listen on \(bind):\(port): \(error)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
    }

    /// Starts serving on a thread of its own (at once, without waiting for the
    /// cooperative pool) until `stop()`. `respond` gets the request's path (query
    /// removed) for each `GET`; nil means 404.
    func start(_ respond: @escaping @Sendable (String) -> Response?) {
        ServerThread { [self] in
            serve(respond)
            let waiters = finished.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.done = true
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }.start()
    }

    /// Returns once the serving thread has closed the socket (after `stop()`).
    func waitUntilStopped() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let done = finished.withLock { state -> Bool in
                if !state.done { state.waiters.append(waiter) }
                return state.done
            }
            if done { waiter.resume() }
        }
    }

    /// Ends the serving thread within one poll interval (0.2 s); safe from any thread, more than once.
    func stop() {
        stopped.withLock { $0 = true }
    }

    private func serve(_ respond: (String) -> Response?) {
        defer { close(listener) }
        var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        while !stopped.withLock({ $0 }) {
            guard poll(&waiting, 1, 200) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            answer(client, respond)
            close(client)
        }
    }

    private func answer(_ client: Int32, _ respond: (String) -> Response?) {
        var timeout = timeval(tv_sec: Self.clientTimeoutSeconds, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let head = Self.readHead(client) else { return }
        let response: Response
        switch Self.requestLine(head) {
        case ("GET", let target)?:
            let path = String(target.prefix { $0 != "?" })
            response = respond(path) ?? Response(status: 404, contentType: "text/plain", body: Array("not found\n".utf8))
        case (_, _)?:
            response = Response(status: 405, contentType: "text/plain", body: Array("only GET\n".utf8))
        case nil:
            response = Response(status: 400, contentType: "text/plain", body: Array("bad request\n".utf8))
        }
        write(client, Self.encode(response))
    }

    /// The request's bytes up to the blank line ending its head; nil when the client
    /// closed, timed out or sent more than `maximumRequestBytes` without one.
    static func readHead(_ client: Int32) -> [UInt8]? {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while head.count < maximumRequestBytes {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            head += chunk[0..<n]
            if endOfHead(head) { return head }
        }
        return nil
    }

    static func endOfHead(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes.indices.dropLast(3).contains {
            bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10
        }
    }

    /// Method and target of `METHOD target HTTP/1.x`, nil when the line is not that.
    static func requestLine(_ head: [UInt8]) -> (method: String, target: String)? {
        let line = head.prefix { $0 != 13 && $0 != 10 }
        let parts = line.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].starts(with: Array("HTTP/1.".utf8)), parts[1].first == UInt8(ascii: "/") else {
            return nil
        }
        return (String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self))
    }

    static func encode(_ response: Response) -> [UInt8] {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"][response.status] ?? "Error"
        let head = "HTTP/1.1 \(response.status) \(reason)\r\nContent-Type: \(response.contentType)\r\n"
            + "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + response.body
    }

    private func write(_ client: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(client, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

/// A plain pthread for the server's blocking loop (the cooperative pool has as many
/// threads as cores and must never block).
private final class ServerThread: @unchecked Sendable {
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func start() {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<ServerThread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, box)
        if result == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<ServerThread>.fromOpaque(box).release()
            body()
        }
    }
}
