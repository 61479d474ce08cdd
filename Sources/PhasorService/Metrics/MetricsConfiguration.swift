import PhasorCore

/// The `metrics:` section of the site file: a Prometheus `/metrics` endpoint per
/// service, off unless a port is given (or `--metrics-port`).
///
/// ```yaml
/// metrics:
///   bind: 127.0.0.1      # default; 0.0.0.0 to let another machine scrape
///   gateway: 9101
///   control: 9102
///   bridge: 9103
/// ```
public struct MetricsConfiguration: Decodable, Sendable, Hashable {
    public var bind: String?
    public var gateway: Int?
    public var control: Int?
    public var bridge: Int?

    public init(bind: String? = nil, gateway: Int? = nil, control: Int? = nil, bridge: Int? = nil) {
        self.bind = bind
        self.gateway = gateway
        self.control = control
        self.bridge = bridge
    }

    public static let defaultBind = "127.0.0.1"

    public func port(of service: ServiceName) -> Int? {
        switch service {
        case .gateway: gateway
        case .control: control
        case .bridge: bridge
        }
    }
}
