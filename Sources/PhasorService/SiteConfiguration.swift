import BridgeCore
import BridgeAlerts
import BridgeLicences
import Foundation
import HomeAssistant
import Modbus
import Control
import MQTT
import PhasorCore
import Pulse

/// The site file (`--config site.yaml`): what every service reads. Keys are
/// snake_case; unknown keys are errors (file, line, field). Sections of later
/// capabilities (meters, charge points, relays, cloud) extend this type.
public struct SiteConfiguration: Decodable, Sendable {
    public var site: String
    public var prefix: String?
    public var broker: BrokerConfiguration?
    public var logging: LoggingConfiguration?
    /// Control's site tree, budget and timing (`Control.SiteConfig`). phasor-control
    /// refuses to start without it (its demo tree runs only with `--demo`).
    public var control: SiteConfig?
    /// Modbus devices, profile folder and relays (the gateway's; see docs/modbus.md).
    public var modbus: ModbusSection?
    /// S0 pulse inputs (the gateway's).
    public var pulses: PulseSection?
    /// The meters the gateway reads (P1, TIC); see docs/gateway-meters.md.
    public var meters: [MeterConfiguration]?
    /// The bridge's cloud link, outbox, forwarding and commands (see docs/bridge.md).
    public var bridge: BridgeSection?
    /// Alert rules, events and delivery (the bridge's; see docs/alerts.md).
    public var alerts: AlertsSection?
    /// Where the licence is and which keys may sign it (the bridge's; see docs/licences.md).
    public var licence: LicenceSection?
    /// Home Assistant discovery (on by default) and its prefix; see docs/home-assistant.md.
    public var homeassistant: HomeAssistantConfiguration?
    /// Prometheus `/metrics` per service; see docs/metrics.md.
    public var metrics: MetricsConfiguration?

    public init(site: String, prefix: String? = nil, broker: BrokerConfiguration? = nil,
                logging: LoggingConfiguration? = nil, control: SiteConfig? = nil, modbus: ModbusSection? = nil,
                pulses: PulseSection? = nil, meters: [MeterConfiguration]? = nil, bridge: BridgeSection? = nil,
                alerts: AlertsSection? = nil, licence: LicenceSection? = nil) {
        self.site = site
        self.prefix = prefix
        self.broker = broker
        self.logging = logging
        self.control = control
        self.modbus = modbus
        self.pulses = pulses
        self.meters = meters
        self.bridge = bridge
        self.alerts = alerts
        self.licence = licence
    }

    /// The site of `--demo` when no site file is given.
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
    /// `text` (default, key=value) or `json` (one object per line).
    public var format: LogFormat?
}

public enum LogLevelName: String, Decodable, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

extension SiteConfiguration {
    /// Decodes the site file strictly, then runs `checks` (each service's own, see
    /// `SiteCheck`). Every problem is a `ConfigError` naming file, line and field.
    public static func load(from path: String, checks: [any SiteCheck]) throws(ConfigError) -> CheckedSite {
        let url = URL(fileURLWithPath: path)
        let decoded: (value: SiteConfiguration, document: ConfigDocument)
        do {
            decoded = try ConfigLoader.decodeDocument(SiteConfiguration.self, yaml: try ConfigLoader.read(url), file: path)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: path, line: nil, field: nil, message: "\(error)")
        }
        var warnings: [ConfigError] = []
        for check in [CommonSiteCheck()] + checks {
            do {
                warnings += try check.check(decoded.value, in: decoded.document).map(decoded.document.locate)
            } catch let error as ConfigError {
                throw decoded.document.locate(error)
            } catch {
                throw ConfigError(file: path, line: nil, field: nil, message: "\(error)")
            }
        }
        return CheckedSite(site: decoded.value, warnings: warnings)
    }
}
