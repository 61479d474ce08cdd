#if canImport(Glibc)
import Glibc
#endif

/// Connects to a P1 dongle or ser2net port: plain TCP, no handshake; the meter's
/// bytes simply arrive. Keepalive on, so a dongle that vanishes without a FIN is
/// noticed by the kernel and the source reconnects.
enum TCPClient {
    static func connect(host: String, port: Int, timeoutMilliseconds: Int32 = 5000) throws(ByteChannelError) -> any ByteChannel {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw ByteChannelError("resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = ByteChannelError("connect \(host):\(port): no address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let a = entry {
            entry = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = .posix("socket"); continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&p, 1, timeoutMilliseconds) == 1 {
                    var soError: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
                    if soError == 0 { return FileDescriptorChannel(fd: fd) }
                    lastError = .posix("connect \(host):\(port)", soError)
                } else {
                    lastError = ByteChannelError("connect \(host):\(port): timed out")
                }
            } else {
                lastError = .posix("connect \(host):\(port)")
            }
            _ = Glibc.close(fd)
        }
        throw lastError
    }
}
