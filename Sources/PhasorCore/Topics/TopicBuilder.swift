/// Builds every topic Phasor publishes or subscribes to: the public API, kept in
/// one place (see docs/topics.md). Default layout: `phasor/<site>/…`.
public struct TopicBuilder: Sendable, Hashable {
    public let prefix: String
    public let site: String

    public init(prefix: String = "phasor", site: String) {
        self.prefix = prefix
        self.site = site
    }

    /// `phasor/<site>`
    public var root: String { "\(prefix)/\(site)" }

    public func status(_ service: ServiceName) -> String { "\(root)/status/\(service.rawValue)" }
    /// Retained `HeartbeatPayload`: start time and latest beat of a running service.
    public func heartbeat(_ service: ServiceName) -> String { "\(status(service))/heartbeat" }
    public func meterState(_ device: String) -> String { "\(root)/meter/\(device)/state" }
    public func meterQuantity(_ device: String, _ quantity: Quantity) -> String {
        "\(root)/meter/\(device)/\(quantity.rawValue)"
    }
    public func meterRaw(_ device: String) -> String { "\(root)/meter/\(device)/raw" }
    public func meterStats(_ device: String) -> String { "\(root)/meter/\(device)/stats" }
    /// TIC line state: `ok`, `absent`, `not_activated`, `interrupted`.
    public func meterTICStatus(_ device: String) -> String { "\(root)/meter/\(device)/tic_status" }
    public func deviceAvailability(_ device: String) -> String { "\(root)/device/\(device)/availability" }
    public func deviceStats(_ device: String) -> String { "\(root)/device/\(device)/stats" }
    public func chargePointState(_ id: String) -> String { "\(root)/chargepoint/\(id)/state" }
    public func chargePointSetpoint(_ id: String) -> String { "\(root)/chargepoint/\(id)/setpoint" }
    public func chargePointApplied(_ id: String) -> String { "\(root)/chargepoint/\(id)/applied" }
    /// Control's active-power and battery limits for an inverter (never retained).
    public func inverterSetpoint(_ id: String) -> String { "\(root)/inverter/\(id)/setpoint" }
    /// The gateway's answer: what it wrote, refused, or fell back to (retained).
    public func inverterApplied(_ id: String) -> String { "\(root)/inverter/\(id)/applied" }
    public func relayCommand(_ id: String) -> String { "\(root)/relay/\(id)/command" }
    public func relayState(_ id: String) -> String { "\(root)/relay/\(id)/state" }
    public func relayApplied(_ id: String) -> String { "\(root)/relay/\(id)/applied" }
    public var controlState: String { "\(root)/control/state" }
    /// `phasor/<site>/control/<path>/set`, e.g. `control/slider/set`, `control/chargepoint/cp1/mode/set`.
    public func controlSet(_ path: String) -> String { "\(root)/control/\(path)/set" }
    /// Errors answering a refused command, per service.
    public func error(_ service: ServiceName) -> String { "\(root)/error/\(service.rawValue)" }
    public func alert(_ id: String) -> String { "\(root)/alert/\(id)" }
    /// Retained licence status (bridge): state, tier, features, days left, reason.
    public var licence: String { "\(root)/licence" }
    /// Retained: what a service announced to Home Assistant (`DiscoveryRegistry`), to clean up later.
    public func homeAssistantRegistry(_ service: ServiceName) -> String { "\(root)/homeassistant/\(service.rawValue)/registry" }
    /// Wildcard: every topic of this site.
    public var all: String { "\(root)/#" }
}

/// The three services, as named in status topics.
public enum ServiceName: String, Sendable, Hashable, CaseIterable, Codable {
    case gateway, control, bridge
}
