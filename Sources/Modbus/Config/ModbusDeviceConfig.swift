import PhasorCore

/// One Modbus device in the site configuration (a `ConfigLoader` YAML section).
/// Anything left out comes from the profile's connection defaults.
public struct ModbusDeviceConfig: Sendable, Hashable, Decodable {
    public var id: String
    /// Profile id (`eastron_sdm630`, `generic`…).
    public var profile: String
    /// TCP: host name or address.
    public var host: String?
    public var port: Int?
    /// RTU: serial device of the bus (`/dev/ttyUSB0`).
    public var bus: String?
    public var unitId: Int?
    /// RTU line settings of this device when they differ from the profile's.
    public var serial: SerialSettings?
    /// A twin charge point (two sockets, one unit id or port each) counts twice.
    public var twin: Bool?
    public var offlineAfter: Int?
    public var timeoutMs: Int?
    public var connectDelayMs: Int?
    public var interFrameDelayMs: Int?
    public var retries: Int?
    /// Generic meter only: the values to read.
    public var registers: [GenericRegister]?
    /// Charge points only: without a setpoint from control for this long (s), the
    /// gateway writes the charger's safe current on its own.
    public var setpointTimeoutS: Double?
    /// An RTU-only device reached through a Modbus TCP gateway (RS-485 to TCP bridge) at `host`.
    public var tcpGateway: Bool?
    /// Inverters whose profile takes setpoints: this installation's ratings and safe values.
    public var setpoints: InverterSetpointLimits?

    public init(id: String, profile: String, host: String? = nil, port: Int? = nil, bus: String? = nil, unitId: Int? = nil,
                twin: Bool? = nil, registers: [GenericRegister]? = nil)
    {
        self.id = id
        self.profile = profile
        self.host = host
        self.port = port
        self.bus = bus
        self.unitId = unitId
        self.twin = twin
        self.registers = registers
    }

    public var transport: TransportKind? { host != nil ? .tcp : bus != nil ? .rtu : nil }

    /// Where the device is, checked against what the profile supports.
    public func link(for profile: ResolvedProfile) throws(ConfigError) -> ModbusLink {
        let defaults = profile.profile.connection
        switch (host, bus) {
        case (let host?, nil):
            guard defaults.transports.contains(.tcp) || tcpGateway == true else {
                throw error("host", "\(profile.id) has no Modbus TCP interface (behind an RS-485 gateway? set tcp_gateway: true)")
            }
            let port = port ?? defaults.port ?? 502
            guard (1...65535).contains(port) else { throw error("port", "must be 1…65535") }
            return .tcp(host: host, port: port)
        case (nil, let bus?):
            guard defaults.transports.contains(.rtu) else { throw error("bus", "\(profile.id) has no Modbus RTU interface") }
            return .rtu(device: bus, defaultSettings: serial ?? defaults.serial ?? SerialSettings())
        default:
            throw error("host", "give either host (TCP) or bus (RTU)")
        }
    }

    public func target(for profile: ResolvedProfile) throws(ConfigError) -> BusTarget {
        let unit = unitId ?? profile.profile.connection.unitId
        guard let id = UInt8(exactly: unit) else { throw error("unit_id", "must be 0…255") }
        return BusTarget(unitID: id, serial: bus == nil ? nil : serial ?? profile.profile.connection.serial)
    }

    /// Timing from the configuration, else the profile, else the defaults.
    public func busOptions(for profile: ResolvedProfile) -> BusOptions {
        let defaults = profile.profile.connection
        return BusOptions(
            responseTimeout: ModbusTimeout(milliseconds: timeoutMs ?? defaults.timeoutMs ?? 1000),
            retry: RetryPolicy(attempts: 1 + max(0, retries ?? 1)),
            interFrameDelay: .milliseconds(interFrameDelayMs ?? defaults.interFrameDelayMs ?? 0),
            connectDelay: .milliseconds(connectDelayMs ?? defaults.connectDelayMs ?? 0))
    }

    /// TCP connections this device holds (RTU devices hold none).
    public func tcpConnections(profile: ResolvedProfile?) -> Int {
        guard transport == .tcp else { return 0 }
        if twin == true { return 2 }
        return max(1, profile?.profile.connection.sockets ?? 1)
    }

    private func error(_ field: String, _ message: String) -> ConfigError {
        ConfigError(file: "<site>", line: nil, field: "modbus.\(id).\(field)", message: message)
    }
}

/// `modbus.devices[].setpoints`: what this inverter and its battery are rated for (the
/// bounds of control's setpoints; a `percent` register is written as a share of them) and
/// what the gateway writes when control goes quiet.
public struct InverterSetpointLimits: Sendable, Hashable, Decodable {
    /// The inverter's AC power at most, W (the active-power limit's range and 100 %).
    public var activePowerMaxW: Double?
    /// The limit written when control goes quiet, W; default the maximum (no limit). On a
    /// site with an export limit, set the grid operator's export limit here.
    public var activePowerSafeW: Double?
    /// The battery's charge / discharge power at most, W (the safe values: its own self-consumption).
    public var batteryMaxChargeW: Double?
    public var batteryMaxDischargeW: Double?
    /// A setpoint without `valid_s` holds this long, s (default 60).
    public var validityS: Double?

    public init(activePowerMaxW: Double? = nil, activePowerSafeW: Double? = nil, batteryMaxChargeW: Double? = nil,
                batteryMaxDischargeW: Double? = nil, validityS: Double? = nil) {
        self.activePowerMaxW = activePowerMaxW
        self.activePowerSafeW = activePowerSafeW
        self.batteryMaxChargeW = batteryMaxChargeW
        self.batteryMaxDischargeW = batteryMaxDischargeW
        self.validityS = validityS
    }

    /// The rating of a wire field (`active_power_limit_w`…).
    public func maximum(_ field: String) -> Double? {
        switch field {
        case "active_power_limit_w": activePowerMaxW
        case "battery_max_charge_w": batteryMaxChargeW
        case "battery_max_discharge_w": batteryMaxDischargeW
        default: nil
        }
    }

    /// The value written when control goes quiet.
    public func safe(_ field: String) -> Double? {
        field == "active_power_limit_w" ? activePowerSafeW ?? activePowerMaxW : maximum(field)
    }

    public var validity: Double { validityS ?? 60 }

    func validate(_ spec: InverterSetpointSpec?, device: String, fail: (String, String) -> ConfigError) throws(ConfigError) {
        guard let spec else { throw fail("\(device).setpoints", "this profile takes no setpoints") }
        let wanted = Set(spec.points.map(\.field))
        for (field, key) in [("active_power_limit_w", "active_power_max_w"), ("battery_max_charge_w", "battery_max_charge_w"),
                             ("battery_max_discharge_w", "battery_max_discharge_w")] {
            let value = maximum(field)
            if wanted.contains(field) {
                guard let value else { throw fail("\(device).setpoints.\(key)", "required: the rating the limit is bounded by, W") }
                guard value > 0, value <= 1_000_000 else { throw fail("\(device).setpoints.\(key)", "must be above 0, at most 1000000 W") }
            } else if value != nil {
                throw fail("\(device).setpoints.\(key)", "the profile has no register for it")
            }
        }
        if let safe = activePowerSafeW, !(safe >= 0 && safe <= (activePowerMaxW ?? 0)) {
            throw fail("\(device).setpoints.active_power_safe_w", "must be 0…active_power_max_w")
        }
        if let v = validityS, !(v >= 5 && v <= 3600) { throw fail("\(device).setpoints.validity_s", "must be 5…3600 s") }
    }
}

/// The site rule: at most 20 Modbus TCP connections (charge points, meters and
/// inverters all count, a twin charge point twice; RTU devices do not count).
public struct ConnectionLimitError: Error, Sendable, Hashable, CustomStringConvertible {
    public var total: Int
    public var limit: Int
    /// Each TCP device with the connections it takes, in configuration order.
    public var devices: [(id: String, connections: Int)]

    public static func == (a: Self, b: Self) -> Bool {
        a.total == b.total && a.limit == b.limit && a.devices.map(\.id) == b.devices.map(\.id)
            && a.devices.map(\.connections) == b.devices.map(\.connections)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(total)
        hasher.combine(limit)
        for d in devices { hasher.combine(d.id); hasher.combine(d.connections) }
    }

    public var description: String {
        let list = devices.map { $0.connections == 1 ? $0.id : "\($0.id) (×\($0.connections))" }.joined(separator: ", ")
        return "\(total) Modbus TCP connections configured, at most \(limit) per site: \(list)"
    }
}

/// Returns the error naming the TCP devices when the site exceeds `limit` connections.
public func validateTCPConnectionLimit(_ devices: [ModbusDeviceConfig], profiles: ProfileLibrary, limit: Int = 20)
    -> ConnectionLimitError?
{
    let counted = devices.map { (id: $0.id, connections: $0.tcpConnections(profile: profiles[$0.profile])) }
        .filter { $0.connections > 0 }
    let total = counted.reduce(0) { $0 + $1.connections }
    return total > limit ? ConnectionLimitError(total: total, limit: limit, devices: counted) : nil
}
