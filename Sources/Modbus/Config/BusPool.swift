import PhasorCore

/// The buses of a site: one per serial port (shared by every RTU device on it,
/// whatever their line settings) and one per TCP endpoint (shared by the unit ids
/// behind it, as on a gateway or an Alfen station).
public final class BusPool: Sendable {
    private let buses = Locked<[String: ModbusBus]>([:])

    public init() {}

    /// The bus for `link`, created with `options` the first time it is asked for.
    public func bus(for link: ModbusLink, options: BusOptions) -> ModbusBus {
        let key: String
        switch link {
        case .tcp(let host, let port): key = "tcp:\(host):\(port)"
        case .rtu(let device, _): key = "rtu:\(device)"
        }
        return buses.withLock { all in
            if let existing = all[key] { return existing }
            let bus = ModbusBus(link: link, options: options)
            all[key] = bus
            return bus
        }
    }

    public func closeAll() async {
        let all = buses.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        for bus in all { await bus.close() }
    }

    /// Builds a configured device: its profile (or, for `generic`, the configured
    /// registers), its bus from the pool and its unit id.
    public func makeDevice(_ config: ModbusDeviceConfig, profiles: ProfileLibrary,
                           clock: any WallClock = SystemWallClock()) throws(ConfigError) -> ModbusDevice
    {
        guard var profile = profiles[config.profile] else {
            throw ConfigError(file: "<site>", line: nil, field: "modbus.\(config.id).profile",
                              message: "unknown profile '\(config.profile)'")
        }
        if let rows = config.registers {
            guard config.profile == "generic" else {
                throw ConfigError(file: "<site>", line: nil, field: "modbus.\(config.id).registers",
                                  message: "registers are only configured for the generic meter")
            }
            profile = try GenericMeter.profile(id: config.id, registers: rows, base: profile)
        }
        let link = try config.link(for: profile)
        let bus = bus(for: link, options: config.busOptions(for: profile))
        return ModbusDevice(id: config.id, profile: profile, bus: bus, target: try config.target(for: profile),
                            offlineAfter: config.offlineAfter ?? 3, clock: clock)
    }
}
