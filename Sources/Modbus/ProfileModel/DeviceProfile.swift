import PhasorCore

/// A device described as data (a YAML file under Profiles/ or the user folder).
/// Decoding checks the shape; `resolve(file:)` checks the meaning.
public struct DeviceProfile: Sendable, Decodable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable { case meter, inverter, charger }

    public var id: String
    public var kind: Kind
    public var manufacturer: String
    public var model: String
    public var confidence: Confidence
    public var sources: [String]?
    public var notes: String?
    public var connection: ConnectionDefaults
    /// Poll group name → interval in seconds. Registers without `poll` use `default`.
    public var pollGroups: [String: Double]?
    /// Largest hole (in registers) a merged read may span; 0 reads only adjacent registers,
    /// since some devices answer "illegal address" for unmapped registers in a block.
    public var maxGap: Int?
    /// Most registers per read request (≤ 125; Huawei dongles want small reads).
    public var maxBlock: Int?
    public var registers: [RegisterSpec]
    public var charger: ChargerSpec?
    /// Inverters: the limits control may set (active power, battery charge and discharge).
    public var setpoints: InverterSetpointSpec?
}

/// What an inverter takes from control, each part a writable register. Values are in
/// watts on the wire to the gateway; a register in `percent` holds them as a share of
/// the site's rating for that point (`modbus.devices[].setpoints`).
public struct InverterSetpointSpec: Sendable, Hashable, Decodable {
    /// The inverter's active-power limit (its AC output at most).
    public var activePowerLimit: SetpointPoint?
    /// The battery's charge and discharge power at most (it runs its self-consumption inside them).
    public var batteryMaxCharge: SetpointPoint?
    public var batteryMaxDischarge: SetpointPoint?
    /// Writes done once before the first setpoint (a control mode, an enable flag).
    public var setup: [ChargerSpec.RegisterWrite]?
    /// An unchanged setpoint is written again this often, s (a device watchdog); default 30.
    public var refreshS: Double?

    /// The points by the name they have on the wire.
    public var points: [(field: String, point: SetpointPoint)] {
        [("active_power_limit_w", activePowerLimit), ("battery_max_charge_w", batteryMaxCharge),
         ("battery_max_discharge_w", batteryMaxDischarge)].compactMap { f, p in p.map { (f, $0) } }
    }
}

public struct SetpointPoint: Sendable, Hashable, Decodable {
    public enum Unit: String, Sendable, Hashable, Decodable { case watt = "W", percent }
    public var register: RegisterPoint
    public var unit: Unit
}

public enum TransportKind: String, Sendable, Hashable, Codable, CaseIterable { case tcp, rtu }

/// The device's factory defaults; a site's device configuration may override them.
public struct ConnectionDefaults: Sendable, Hashable, Decodable {
    public var transports: [TransportKind]
    public var unitId: Int
    public var port: Int?
    public var host: String?
    public var serial: SerialSettings?
    public var timeoutMs: Int?
    public var connectDelayMs: Int?
    public var interFrameDelayMs: Int?
    /// Default word order of this device's multi-register values.
    public var wordOrder: WordOrder?
    /// Sockets behind one connection with their own unit ids (a twin charge point: 2).
    public var sockets: Int?
}

/// Charge-point control, all optional parts described by registers.
public struct ChargerSpec: Sendable, Hashable, Decodable {
    public var minCurrent: Double
    public var maxCurrent: Double
    /// The current the charge point falls back to when its watchdog lapses; the
    /// driver also writes it when the controller stops sending setpoints.
    public var safeCurrent: Double
    public var phases: Int?
    public var state: StateSpec
    public var currentLimit: RegisterPoint
    /// Where the applied limit is read back when not at `current_limit` itself (ABB 0x400E).
    public var currentLimitReadback: RegisterPoint?
    /// Separate enable/disable register; absent = writing 0 A pauses charging.
    public var enable: SwitchSpec?
    public var phaseSwitch: PhaseSwitchSpec?
    public var phasesInUse: PhasesInUseSpec?
    public var watchdog: WatchdogSpec?
    /// Writes done once after connecting (e.g. ABB communication timeout).
    public var setup: [RegisterWrite]?

    public struct StateSpec: Sendable, Hashable, Decodable {
        public var register: RegisterPoint
        /// Applied to integer states: (raw >> shift) & mask.
        public var shift: Int?
        public var mask: UInt64?
        /// The masked value is an ASCII letter ('A'…'F').
        public var asCharacter: Bool?
        /// Device state (number, letter or text) → connected/charging/error.
        public var map: [String: ChargerState]
    }

    public struct SwitchSpec: Sendable, Hashable, Decodable {
        public var register: RegisterPoint
        public var onValue: Double
        public var offValue: Double
    }

    public struct PhaseSwitchSpec: Sendable, Hashable, Decodable {
        public var register: RegisterPoint
        public var onePhase: Double
        public var threePhase: Double
    }

    public struct PhasesInUseSpec: Sendable, Hashable, Decodable {
        public var register: RegisterPoint
        /// Raw value → phases; absent = the register holds the count itself.
        public var map: [String: Int]?
    }

    public struct WatchdogSpec: Sendable, Hashable, Decodable {
        /// How often the driver feeds the watchdog.
        public var intervalS: Double
        /// After how long without feeding the device falls back to the safe current.
        public var timeoutS: Double
        /// Keep-alive register and value; absent = rewrite the current limit.
        public var register: RegisterPoint?
        public var value: Double?
    }

    public struct RegisterWrite: Sendable, Hashable, Decodable {
        public var register: RegisterPoint
        public var value: Double
    }
}

/// What control needs to know of a charge point's state (IEC 61851 A…F folded).
public enum ChargerState: String, Sendable, Hashable, Codable, CaseIterable {
    /// A: no vehicle.
    case disconnected
    /// B (and C1/D1): vehicle connected, not drawing current.
    case connected
    /// C2/D2: charging.
    case charging
    /// E/F or a fault code.
    case error
    /// The device reported a value the profile does not map.
    case unknown
}
