/// Where a meter's bytes come from, as the operator writes it:
/// `/dev/ttyUSB0` (or `serial:///dev/ttyUSB0`), `tcp://host:8088`, `file:///path/capture.txt`.
public enum MeterSourceURL: Sendable, Hashable, CustomStringConvertible {
    case serial(path: String)
    case tcp(host: String, port: Int)
    case file(path: String)

    public init(parsing text: String) throws(ByteChannelError) {
        if text.hasPrefix("/") {
            self = .serial(path: text)
        } else if text.hasPrefix("serial://") {
            let path = String(text.dropFirst("serial://".count))
            guard path.hasPrefix("/") else { throw ByteChannelError("'\(text)': write serial:///dev/ttyUSB0") }
            self = .serial(path: path)
        } else if text.hasPrefix("file://") {
            let path = String(text.dropFirst("file://".count))
            guard path.hasPrefix("/") else { throw ByteChannelError("'\(text)': write file:///absolute/path") }
            self = .file(path: path)
        } else if text.hasPrefix("tcp://") {
            var rest = Substring(text.dropFirst("tcp://".count))
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            // IPv6 literals come in brackets: tcp://[::1]:8088
            let host: Substring
            let portText: Substring
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                host = rest[rest.index(after: rest.startIndex)..<close]
                portText = rest[close...].dropFirst().drop(while: { $0 == ":" })
            } else if let colon = rest.lastIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            } else {
                throw ByteChannelError("'\(text)': the port is missing (tcp://host:8088)")
            }
            guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
                throw ByteChannelError("'\(text)': write tcp://host:port")
            }
            self = .tcp(host: String(host), port: port)
        } else {
            throw ByteChannelError("'\(text)': use /dev/…, tcp://host:port or file:///path")
        }
    }

    public var description: String {
        switch self {
        case .serial(let path): path
        case .tcp(let host, let port): host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        case .file(let path): "file://\(path)"
        }
    }
}
