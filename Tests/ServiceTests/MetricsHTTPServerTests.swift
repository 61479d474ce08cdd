import Foundation
import Testing

@testable import PhasorService

/// The `/metrics` HTTP server on its own, spoken to over a real loopback socket: the
/// path it serves, the refusals, and a stop that ends its thread and frees the port.
@Suite struct MetricsHTTPServerTests {
    /// Sends `request` and reads the whole answer (the server closes after each).
    func exchange(_ port: Int, _ request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer += chunk[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    @Test func servesItsPathAndRefusesTheRest() async throws {
        let server = try MetricsHTTPServer(bind: "127.0.0.1", port: 0)
        #expect(server.port > 0)
        // Started synchronously on its own thread: the blocking exchanges below run on a
        // thread of the cooperative pool, which the server must never need.
        server.start { path in
            path == "/metrics" ? .init(status: 200, contentType: "text/plain", body: Array("up 1\n".utf8)) : nil
        }
        let port = server.port
        let ok = try exchange(port, "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(ok)")
        #expect(ok.contains("Content-Length: 5\r\n") && ok.contains("Connection: close\r\n") && ok.hasSuffix("\r\n\r\nup 1\n"))
        #expect(try exchange(port, "GET /other HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
        #expect(try exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").hasPrefix("HTTP/1.1 405 "))
        #expect(try exchange(port, "hello\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        // A head that never ends within the limit is dropped without an answer.
        #expect(try exchange(port, "GET /metrics HTTP/1.1\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 600)) == "")
        server.stop()
        await server.waitUntilStopped()
        // The thread closed the socket: the port can be bound again.
        let again = try MetricsHTTPServer(bind: "127.0.0.1", port: port)
        again.start { _ in nil }
        again.stop()
        await again.waitUntilStopped()
    }

    @Test func refusesAnAddressThatIsNotIPv4() {
        #expect(throws: MetricsHTTPServer.Failure.self) { try MetricsHTTPServer(bind: "localhost", port: 9100) }
        #expect(throws: MetricsHTTPServer.Failure.self) { try MetricsHTTPServer(bind: "127.0.0.1", port: 70000) }
    }
}
