import PhasorCore

/// One Home Assistant device as Phasor describes it: what becomes one retained
/// `<prefix>/device/<node_id>/config` (device-based discovery, HA ≥ 2024.11).
/// Plain data; `DiscoveryPayload` turns it into JSON. No MQTT here.
public struct DiscoveryDevice: Sendable, Hashable {
    /// The config topic's node level and the base of every unique_id. Built from the
    /// hardware identity (`DiscoveryIdentity`), so a renamed device id keeps its history.
    public var nodeID: String
    /// `device.identifiers`; entities of payloads sharing one identifier land on one device.
    public var identifiers: [String]
    public var name: String?
    public var manufacturer: String?
    public var model: String?
    public var serialNumber: String?
    /// The identifier of the device this one is reached through (the gateway).
    public var viaDevice: String?
    /// Each topic says `online`/`offline`; all must say `online` (`availability_mode: all`).
    public var availability: [String]
    public var components: [DiscoveryComponent]
    /// Retained Phasor topics that belong to this device alone: cleared when it leaves the site.
    public var ownedTopics: [String]

    public init(nodeID: String, identifiers: [String], name: String? = nil, manufacturer: String? = nil,
                model: String? = nil, serialNumber: String? = nil, viaDevice: String? = nil, availability: [String] = [],
                components: [DiscoveryComponent] = [], ownedTopics: [String] = []) {
        self.nodeID = nodeID
        self.identifiers = identifiers
        self.name = name
        self.manufacturer = manufacturer
        self.model = model
        self.serialNumber = serialNumber
        self.viaDevice = viaDevice
        self.availability = availability
        self.components = components
        self.ownedTopics = ownedTopics
    }
}

/// One entity of a device: a sensor, or a control on an existing `…/set` topic.
public struct DiscoveryComponent: Sendable, Hashable {
    public enum Platform: String, Sendable, Hashable {
        case sensor, number, select, button
        case `switch`
        case binarySensor = "binary_sensor"
    }

    /// The key under `components`, unique in the device (`energy_import_t1`, `slider`).
    public var key: String
    public var platform: Platform
    /// Entity name without the device's name (HA 2023.8+ warns when it repeats it).
    public var name: String
    public var stateTopic: String?
    public var valueTemplate: String?
    public var commandTopic: String?
    public var commandTemplate: String?
    public var entityClass: EntityClass
    /// `number`: range and step; `mode` `box` or `slider`.
    public var min: Double?
    public var max: Double?
    public var step: Double?
    public var mode: String?
    /// `select`.
    public var options: [String]?
    /// `switch` / `binary_sensor`: what is sent and what the state template yields.
    public var payloadOn: String?
    public var payloadOff: String?
    public var stateOn: String?
    public var stateOff: String?
    /// `button`.
    public var payloadPress: String?

    public init(key: String, platform: Platform, name: String, stateTopic: String? = nil, valueTemplate: String? = nil,
                commandTopic: String? = nil, commandTemplate: String? = nil, entityClass: EntityClass = EntityClass()) {
        self.key = key
        self.platform = platform
        self.name = name
        self.stateTopic = stateTopic
        self.valueTemplate = valueTemplate
        self.commandTopic = commandTopic
        self.commandTemplate = commandTemplate
        self.entityClass = entityClass
    }

    /// A sensor for one quantity published on its own plain topic (`meter/<id>/<quantity>`).
    public static func sensor(_ quantity: Quantity, topic: String) -> DiscoveryComponent {
        DiscoveryComponent(
            key: quantity.rawValue, platform: .sensor, name: DiscoveryNames.name(of: quantity), stateTopic: topic,
            entityClass: EntityClass.of(quantity))
    }

    /// A sensor reading one key of a JSON state (`chargepoint/<id>/state`, `control/state`).
    public static func jsonSensor(_ key: String, name: String, topic: String, template: String, as quantity: Quantity)
        -> DiscoveryComponent
    {
        DiscoveryComponent(key: key, platform: .sensor, name: name, stateTopic: topic, valueTemplate: template,
                           entityClass: EntityClass.of(quantity))
    }
}

/// Entity names: the quantity's catalogue summary (never the device's name).
public enum DiscoveryNames {
    public static func name(of quantity: Quantity) -> String {
        if let summary = quantity.summary { return summary }
        let words = quantity.rawValue.split(separator: "_").joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }
}

/// Identities: node ids and identifiers are `phasor_` + letters, digits and `_`.
public enum DiscoveryIdentity {
    /// `phasor_<parts…>` with every character outside `[A-Za-z0-9]` turned into `_`.
    public static func node(_ parts: String...) -> String { node(parts) }

    public static func node(_ parts: [String]) -> String {
        let joined = (["phasor"] + parts).joined(separator: "_")
        return String(joined.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// A meter by its serial (P1 equipment id, TIC ADCO/ADSC): unique in the world,
    /// so two sites (or two dongles) never collide and a re-install keeps history.
    public static func meter(serial: String) -> String { node("meter", serial) }

    /// A Modbus device: where it is (TCP host and port, or serial bus), its unit id
    /// and its profile, within the site.
    public static func modbus(site: String, host: String?, port: Int?, bus: String?, unit: Int?, profile: String) -> String {
        let place = host.map { "\($0)_\(port ?? 502)" } ?? bus ?? "bus"
        return node(site, "modbus", place, "u\(unit ?? 1)", profile)
    }

    /// A service of the site (`gateway`, `control`).
    public static func service(site: String, _ service: ServiceName) -> String { node(site, service.rawValue) }
}
