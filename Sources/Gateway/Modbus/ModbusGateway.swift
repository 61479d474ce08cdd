import Foundation
import Logging
import Modbus
import MQTT
import PhasorCore
import ServiceLifecycle

/// Turns the `modbus:` section (site file and/or quick-start flags) into the
/// gateway's services: one `ModbusDeviceService` per meter or inverter, one
/// `ChargePointService` per charge point, one `RelayService` per relay. Devices on
/// one serial port or TCP endpoint share one bus (`BusPool`).
public enum ModbusGateway {
    /// Charge points are polled at least this often, s, whatever their profile says.
    /// Control subtracts what each charger reports from the meter, which sends every
    /// second; a report older than the last setpoint change is believed only down to
    /// that setpoint (safe, but a car just started then looks idle and may be paused).
    /// Fresh reports keep that window short. See docs/control-service.md.
    public static let chargePointPollInterval: TimeInterval = 1
    /// How often the services look at their timers; tests shorten them.
    public struct Ticks: Sendable {
        public var device: Duration
        public var chargePoint: Duration
        public init(device: Duration = .milliseconds(250), chargePoint: Duration = .seconds(1)) {
            self.device = device
            self.chargePoint = chargePoint
        }
    }

    /// Without a setpoint for this long a charge point falls back, unless configured:
    /// five of control's decision intervals (see `DecisionTiming`).
    public static var defaultSetpointTimeout: TimeInterval { DecisionTiming.setpointTimeout }

    public static func services(
        _ section: ModbusSection?, client: MQTTClient, topics: TopicBuilder, clock: any WallClock = SystemWallClock(),
        ticks: Ticks = Ticks(), discovery: GatewayDiscovery? = nil, logger: Logger
    ) throws -> [any Service] {
        guard let section, !section.devices.isEmpty || !(section.relays ?? []).isEmpty else { return [] }
        let profiles = section.profileLibrary()
        for problem in profiles.problems { logger.warning("profile not loaded", metadata: ["error": "\(problem)"]) }
        try section.validate(profiles: profiles)
        let pool = BusPool()
        var devices: [String: ModbusDevice] = [:]
        var services: [any Service] = []
        let publisher = ReadingPublisher(client: client, topics: topics, discovery: discovery)
        for config in section.devices {
            let device = try pool.makeDevice(config, profiles: profiles, clock: clock)
            devices[config.id] = device
            if device.profile.charger != nil {
                let driver = try ModbusChargerDriver(
                    device: device, commandTimeout: config.setpointTimeoutS ?? defaultSetpointTimeout, clock: clock)
                services.append(ChargePointService(
                    id: config.id, driver: driver, device: device, client: client, topics: topics, clock: clock,
                    pollInterval: min(device.profile.pollIntervals["default"] ?? 1, Self.chargePointPollInterval),
                    tick: ticks.chargePoint, logger: logger))
            } else {
                services.append(ModbusDeviceService(device: device, publisher: publisher, clock: clock, tick: ticks.device,
                                                    logger: logger))
                if let limits = config.setpoints {
                    let writer = try InverterSetpointWriter(device: device, limits: limits, clock: clock)
                    services.append(InverterSetpointService(id: config.id, writer: writer, client: client, topics: topics,
                                                            clock: clock, tick: ticks.chargePoint, logger: logger))
                }
            }
        }
        for relay in section.relays ?? [] {
            services.append(RelayService(config: relay, device: relay.device.flatMap { devices[$0] }, client: client,
                                         topics: topics, clock: clock, logger: logger))
        }
        return services
    }
}
