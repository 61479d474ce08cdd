import Foundation

/// What control may ask of any charge point, whatever its transport: a Modbus
/// register map today, a cloud REST API (Easee, Zaptec) later. Control talks to
/// this protocol only.
public protocol ChargerDriver: Sendable {
    var limits: ChargerLimits { get }
    /// State, phases in use, currents, power and energy, read now.
    func readStatus() async throws(ChargerError) -> ChargerStatus
    /// Sets the current limit per phase (A); 0 pauses charging. Values between 0 and
    /// the minimum current, or above the maximum, are refused.
    func setCurrentLimit(_ amps: Double) async throws(ChargerError)
    func setEnabled(_ enabled: Bool) async throws(ChargerError)
    /// 1 or 3 phases, where the charger can switch.
    func setPhases(_ phases: Int) async throws(ChargerError)
    /// Call about once a second: keeps the charger's watchdog fed and, when control
    /// has gone quiet for too long, falls back to the safe current.
    func maintain() async throws(ChargerError)
    /// Writes the safe current now, whatever the timers say: the gateway saw its
    /// controller go offline. The next accepted setpoint ends the fallback.
    func fallBack() async throws(ChargerError)
    /// True while the driver holds the safe current because control went quiet.
    var isInFallback: Bool { get async }
}

public struct ChargerLimits: Sendable, Hashable {
    public var minCurrent: Double
    public var maxCurrent: Double
    public var safeCurrent: Double
    public var phases: Int
    public var canSwitchPhases: Bool

    public init(minCurrent: Double, maxCurrent: Double, safeCurrent: Double, phases: Int, canSwitchPhases: Bool) {
        self.minCurrent = minCurrent
        self.maxCurrent = maxCurrent
        self.safeCurrent = safeCurrent
        self.phases = phases
        self.canSwitchPhases = canSwitchPhases
    }

    /// 0 (pause) or a value within min…max.
    public func accepts(_ amps: Double) -> Bool {
        amps == 0 || (amps >= minCurrent && amps <= maxCurrent)
    }
}

public struct ChargerStatus: Sendable, Hashable {
    public var state: ChargerState
    /// The state as the device reported it ("C2", "4", "B"), for diagnostics.
    public var rawState: String
    public var phasesInUse: Int?
    /// Per-phase currents L1…L3 (A), where the device reports them.
    public var currents: [Double]
    public var power: Double?
    /// Lifetime energy (kWh) where the device has a lifetime counter.
    public var energy: Double?
    /// The limit the charger applies now, read back from the device (A).
    public var currentLimit: Double?
    public var enabled: Bool?
    /// True while the driver holds the safe current because control went quiet.
    public var fallbackActive: Bool
}

public enum ChargerError: Error, Sendable, Hashable, CustomStringConvertible {
    case setpointOutOfRange(requested: Double, minimum: Double, maximum: Double)
    case unsupported(String)
    case modbus(ModbusError)
    /// Any other transport (a REST API) failed.
    case transport(String)

    public var description: String {
        switch self {
        case .setpointOutOfRange(let requested, let minimum, let maximum):
            "current \(requested) A refused: use 0 or \(minimum)…\(maximum) A"
        case .unsupported(let what): "not supported by this charger: \(what)"
        case .modbus(let error): "modbus: \(error)"
        case .transport(let message): message
        }
    }
}
