import Control
import MQTT
import PhasorCore

/// The site file (`--config site.yaml`): what every service reads. Keys are
/// snake_case; unknown keys are errors (file, line, field). Sections of later
/// capabilities (meters, charge points, relays, cloud) extend this type.
public struct SiteConfiguration: Decodable, Sendable {
    public var site: String
    public var prefix: String?
    public var broker: BrokerConfiguration?
    public var logging: LoggingConfiguration?
    /// Control's site tree, budget and timing (`Control.SiteConfig`); absent on the
    /// demo site, where control runs its own demo tree (see `DemoControlSite`).
    public var control: SiteConfig?

    public init(site: String, prefix: String? = nil, broker: BrokerConfiguration? = nil,
                logging: LoggingConfiguration? = nil, control: SiteConfig? = nil) {
        self.site = site
        self.prefix = prefix
        self.broker = broker
        self.logging = logging
        self.control = control
    }

    /// The demo site used when no config file is given.
    public static let demo = SiteConfiguration(site: "demo")
}

public struct BrokerConfiguration: Decodable, Sendable {
    public var url: String?
    public var username: String?
    public var password: String?
    /// A file holding the password (first line), so it stays out of the site file.
    public var passwordFile: String?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var insecure: Bool?
    public var `protocol`: MQTTProtocolVersion?
    public var keepAlive: Int?
    public var clientId: String?
    public var offlineQueue: OfflineQueueConfiguration?
}

public struct OfflineQueueConfiguration: Decodable, Sendable {
    public var capacity: Int?
    public var whenFull: MQTTOfflineQueuePolicy.WhenFull?
}

public struct LoggingConfiguration: Decodable, Sendable {
    public var level: LogLevelName?
}

public enum LogLevelName: String, Decodable, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}
