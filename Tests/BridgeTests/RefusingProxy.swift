import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP listener in front of a real mosquitto that plays a faulty broker.
/// With a `refusal`, a broker without MQTT 5: a CONNECT of protocol level 5 is answered
/// with a refusing CONNACK and the connection closed. Any other CONNECT is passed to
/// mosquitto and the connection proxied both ways, byte for byte — except that on the
/// proxied connections numbered in `swallowPubacks` (1 = the first) the broker's
/// PUBACKs are dropped: a connection that stays up but never acknowledges.
final class RefusingProxy: @unchecked Sendable {
    enum Refusal {
        /// What a 3.1.1-only broker sends: a 3.1.1 CONNACK, return code 1 (unacceptable protocol version).
        case broker311
        /// An MQTT 5 CONNACK with reason code 0x84 (unsupported protocol version).
        case reason0x84

        var bytes: [UInt8] {
            switch self {
            case .broker311: [0x20, 0x02, 0x00, 0x01]
            case .reason0x84: [0x20, 0x03, 0x00, 0x84, 0x00]
            }
        }
    }

    let port: Int
    let target: Int
    let refusal: Refusal?
    let swallowPubacks: Set<Int>
    /// The first this many MQTT 5 SUBACKs from the broker reach the client with every reason
    /// code turned into 0x87 (not authorized).
    let refuseSubacks: Int
    private let listener: Int32
    private let lock = NSLock()
    private var counts = (refused: 0, proxied: 0, swallowed: 0, subacksRefused: 0)

    var refused: Int { lock.withLock { counts.refused } }
    var proxied: Int { lock.withLock { counts.proxied } }
    var swallowed: Int { lock.withLock { counts.swallowed } }
    var subacksRefused: Int { lock.withLock { counts.subacksRefused } }

    init(target: Int, refusal: Refusal?, swallowPubacks: Set<Int> = [], refuseSubacks: Int = 0) throws {
        self.target = target
        self.refusal = refusal
        self.swallowPubacks = swallowPubacks
        self.refuseSubacks = refuseSubacks
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread { self.serve(client) }
            }
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    static func loopback(port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(port).bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    /// Reads the CONNECT packet whole (fixed header, remaining length, body).
    private func readConnect(_ fd: Int32) -> [UInt8]? {
        var packet: [UInt8] = []
        var byte: UInt8 = 0
        func next() -> UInt8? { read(fd, &byte, 1) == 1 ? byte : nil }
        guard let first = next(), first >> 4 == 1 else { return nil }
        packet.append(first)
        var remaining = 0
        var multiplier = 1
        while true {
            guard let b = next() else { return nil }
            packet.append(b)
            remaining += Int(b & 0x7F) * multiplier
            multiplier *= 128
            if b & 0x80 == 0 { break }
        }
        var body = [UInt8](repeating: 0, count: remaining)
        var got = 0
        while got < remaining {
            let n = body.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, remaining - got) }
            if n <= 0 { return nil }
            got += n
        }
        return packet + body
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        guard let connect = readConnect(client) else { return }
        // Variable header: protocol name (2-byte length + "MQTT"), then the level.
        var i = 1
        while connect[i] & 0x80 != 0 { i += 1 }
        let level = connect[i + 1 + 2 + 4]
        if level == 5, let refusal {
            lock.withLock { counts.refused += 1 }
            _ = refusal.bytes.withUnsafeBytes { write(client, $0.baseAddress!, $0.count) }
            return
        }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(upstream) }
        var address = Self.loopback(port: target)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return }
        let number = lock.withLock { counts.proxied += 1; return counts.proxied }
        let swallow = swallowPubacks.contains(number)
        var pending: [UInt8] = []
        _ = connect.withUnsafeBytes { write(upstream, $0.baseAddress!, $0.count) }
        var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while poll(&fds, 2, -1) > 0 {
            for (from, to) in [(0, 1), (1, 0)] where fds[from].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fds[from].fd, $0.baseAddress!, $0.count) }
                if n <= 0 { return }
                var out = Array(buffer[0..<n])
                if (swallow || refuseSubacks > 0) && from == 1 {
                    pending += out
                    out = []
                    while let length = Self.packetLength(pending) {
                        var packet = Array(pending[0..<length])
                        pending.removeFirst(length)
                        if swallow && packet[0] >> 4 == 4 {
                            lock.withLock { counts.swallowed += 1 }
                            continue
                        }
                        if packet[0] >> 4 == 9 && takeSubackRefusal() {
                            Self.refuseEveryReason(inSuback: &packet)
                        }
                        out += packet
                    }
                }
                var sent = 0
                while sent < out.count {
                    let w = out.withUnsafeBytes { write(fds[to].fd, $0.baseAddress! + sent, out.count - sent) }
                    if w <= 0 { return }
                    sent += w
                }
            }
        }
    }

    private func takeSubackRefusal() -> Bool {
        lock.withLock {
            guard counts.subacksRefused < refuseSubacks else { return false }
            counts.subacksRefused += 1
            return true
        }
    }

    /// An MQTT 5 SUBACK: fixed header, packet id, properties (length first), then one reason
    /// code per filter, each set to 0x87.
    static func refuseEveryReason(inSuback packet: inout [UInt8]) {
        func varint(at start: Int) -> (value: Int, end: Int) {
            var value = 0
            var multiplier = 1
            var i = start
            repeat {
                value += Int(packet[i] & 0x7F) * multiplier
                multiplier *= 128
                i += 1
            } while packet[i - 1] & 0x80 != 0
            return (value, i)
        }
        let body = varint(at: 1).end
        let properties = varint(at: body + 2)
        for i in (properties.end + properties.value)..<packet.count { packet[i] = 0x87 }
    }

    /// The length of the whole MQTT packet at the start of `bytes`, or nil while incomplete.
    static func packetLength(_ bytes: [UInt8]) -> Int? {
        var remaining = 0
        var multiplier = 1
        var i = 1
        while true {
            guard i < bytes.count else { return nil }
            remaining += Int(bytes[i] & 0x7F) * multiplier
            multiplier *= 128
            i += 1
            if bytes[i - 1] & 0x80 == 0 { break }
        }
        return bytes.count >= i + remaining ? i + remaining : nil
    }
}
