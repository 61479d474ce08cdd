import Foundation

/// Everything control remembers between cycles. A value: the service keeps the
/// latest one (and may persist it, it is `Codable`), and passes it to the next cycle.
public struct ControlState: Sendable, Equatable, Codable {
    /// What operators may change at run time (slider, modes, manual currents, priorities).
    public var settings: ControlSettings
    public var budget: BudgetState
    /// Per charge point id.
    public var sessions: [String: ChargePointSession]

    /// The state before the first cycle: settings from the configuration, nothing measured yet.
    public init(model: SiteModel) {
        settings = ControlSettings(model: model)
        budget = BudgetState()
        sessions = [:]
        for cp in model.chargePoints { sessions[cp.id] = ChargePointSession(phases: cp.phases) }
    }
}

/// Operator settings; the configuration gives their initial values.
public struct ControlSettings: Sendable, Equatable, Codable {
    /// The energy slider, kW.
    public var sliderKW: Double
    public var modes: [String: ChargeMode]
    public var manualCurrents: [String: Double]
    public var priorities: [String: Int]

    public init(model: SiteModel) {
        sliderKW = model.budget.sliderKW
        modes = [:]
        manualCurrents = [:]
        priorities = [:]
        for cp in model.chargePoints {
            modes[cp.id] = cp.mode
            if let m = cp.manualCurrent { manualCurrents[cp.id] = m }
            priorities[cp.id] = cp.priority
        }
    }
}

/// One charge point's history that the anti-flap rules and phase detection need.
public struct ChargePointSession: Sendable, Equatable, Codable {
    /// The current last decided, A (0 = paused).
    public var setpoint: Double = 0
    /// Phases the car charges on: configured, detected, or chosen by 1p/3p switching.
    public var phases: Int
    /// Set once the car's measured currents showed how many phases it uses; cleared on unplug.
    public var detectedPhases: Int?
    /// When the current run started (setpoint went above 0).
    public var runningSince: Date?
    /// When the car was last paused (setpoint went to 0).
    public var pausedSince: Date?
    /// When the charger last switched between 1 and 3 phases.
    public var lastPhaseSwitch: Date?
    /// A car was plugged in at the last cycle.
    public var connected: Bool = false
    /// Setpoint changes with their times, back to the one in force at the oldest
    /// charger report that is still trusted. A charger reports less often than the
    /// meter sends, so its report can lag a change control already made; this bounds
    /// what the report may be believed for (`SiteLoads`). Optional so state files
    /// saved before it existed still load.
    public var setpointChanges: [SetpointChange]?

    public init(phases: Int) { self.phases = phases }
}

/// One decided change of a charge point's current.
public struct SetpointChange: Sendable, Equatable, Codable {
    public var time: Date
    /// A per phase; 0 = paused.
    public var current: Double

    public init(time: Date, current: Double) {
        self.time = time
        self.current = current
    }
}
