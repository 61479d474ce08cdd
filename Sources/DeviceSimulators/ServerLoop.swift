import PhasorCore
import CModbus
import Foundation
import Modbus

/// Answers one request already framed by a server loop: `query` holds the ADU,
/// `headerLength` is 7 (TCP) or 1 (RTU), `ctx` is the context to reply through.
typealias RequestHandler = (_ query: UnsafeMutablePointer<UInt8>, _ length: Int, _ headerLength: Int,
                            _ ctx: OpaquePointer) -> Void

/// A server thread that polls its sockets every 50 ms and can be stopped.
class ServerLoop: @unchecked Sendable {
    private let stopFlag = Locked(false)
    private let finished = DispatchSemaphore(value: 0)

    var isStopping: Bool { stopFlag.withLock { $0 } }

    func start(name: String) {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Asks the thread to end and waits for it (at most one poll interval).
    func stop() {
        let wasStopping = stopFlag.withLock { flag in
            defer { flag = true }
            return flag
        }
        if !wasStopping { finished.wait() }
    }

    func run() {}

    static let pollMilliseconds: Int32 = 50
}

/// Modbus TCP on loopback, serving several clients at once: libmodbus' own
/// receive/reply serve one client at a time, so the loop polls every socket.
final class TCPServerLoop: ServerLoop, @unchecked Sendable {
    private let ctx: OpaquePointer
    private let listenFD: Int32
    let port: Int
    private let handler: RequestHandler

    init(host: String, port: Int, handler: @escaping RequestHandler) throws(ModbusError) {
        guard let ctx = modbus_new_tcp(host, Int32(port)) else { throw .invalidRequest("bad listen address \(host)") }
        let fd = modbus_tcp_listen(ctx, 16)
        guard fd >= 0 else {
            let code = errno
            modbus_free(ctx)
            throw .connectionFailed(endpoint: "\(host):\(port)", reason: String(cString: strerror(code)))
        }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.ctx = ctx
        listenFD = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.handler = handler
        // Without an indication timeout a half-sent request would block the loop forever.
        modbus_set_indication_timeout(ctx, 1, 0)
        super.init()
    }

    override func run() {
        var clients: [Int32] = []
        var query = [UInt8](repeating: 0, count: Int(MODBUS_TCP_MAX_ADU_LENGTH))
        while !isStopping {
            var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
                + clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), Self.pollMilliseconds) > 0 else { continue }
            if fds[0].revents & Int16(POLLIN) != 0 {
                let client = accept(listenFD, nil, nil)
                if client >= 0 { clients.append(client) }
            }
            for entry in fds.dropFirst() where entry.revents != 0 {
                modbus_set_socket(ctx, entry.fd)
                let length = query.withUnsafeMutableBufferPointer { modbus_receive(ctx, $0.baseAddress) }
                if length > 0 {
                    query.withUnsafeMutableBufferPointer { handler($0.baseAddress!, Int(length), 7, ctx) }
                } else if length == -1 {
                    close(entry.fd)
                    clients.removeAll { $0 == entry.fd }
                }
            }
        }
        clients.forEach { close($0) }
        close(listenFD)
        modbus_free(ctx)
    }
}

/// Modbus RTU on a serial device (a socat pty in tests). Frames are cut by
/// function code rather than by libmodbus' receive, which only accepts one unit
/// id: a shared bus carries several simulated devices.
final class RTUServerLoop: ServerLoop, @unchecked Sendable {
    private let ctx: OpaquePointer
    private let fd: Int32
    private let handler: RequestHandler

    init(device: String, handler: @escaping RequestHandler) throws(ModbusError) {
        guard let ctx = modbus_new_rtu(device, 9600, CChar(UInt8(ascii: "N")), 8, 1) else {
            throw .invalidRequest("bad serial device \(device)")
        }
        guard modbus_connect(ctx) == 0 else {
            let code = errno
            modbus_free(ctx)
            throw .connectionFailed(endpoint: device, reason: String(cString: strerror(code)))
        }
        self.ctx = ctx
        fd = modbus_get_socket(ctx)
        self.handler = handler
        super.init()
    }

    override func run() {
        var buffer: [UInt8] = []
        var lastByte = ContinuousClock.now
        var chunk = [UInt8](repeating: 0, count: 512)
        while !isStopping {
            var entry = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            if poll(&entry, 1, Self.pollMilliseconds) > 0 {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    buffer += chunk[0..<n]
                    lastByte = .now
                }
            }
            while let frame = RTUFraming.nextRequest(&buffer) {
                var request = frame
                request.withUnsafeMutableBufferPointer { handler($0.baseAddress!, $0.count, 1, ctx) }
            }
            // A partial frame followed by silence is noise: drop it.
            if !buffer.isEmpty && ContinuousClock.now - lastByte > .milliseconds(200) { buffer.removeAll() }
        }
        modbus_close(ctx)
        modbus_free(ctx)
    }
}

/// Cuts RTU request frames out of a byte stream and checks their CRC.
enum RTUFraming {
    /// Removes and returns the next complete request with a valid CRC, if any.
    static func nextRequest(_ buffer: inout [UInt8]) -> [UInt8]? {
        while buffer.count >= 2 {
            let length: Int
            switch buffer[1] {
            case 1...6: length = 8
            case 15, 16:
                guard buffer.count >= 7 else { return nil }
                length = 9 + Int(buffer[6])
            default:
                buffer.removeFirst()
                continue
            }
            guard buffer.count >= length else { return nil }
            let frame = Array(buffer[0..<length])
            if crc16(frame.dropLast(2)) == UInt16(frame[length - 2]) | UInt16(frame[length - 1]) << 8 {
                buffer.removeFirst(length)
                return frame
            }
            // Out of step: skip one byte and look again.
            buffer.removeFirst()
        }
        return nil
    }

    static func crc16<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
        }
        return crc
    }
}
