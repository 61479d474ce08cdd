import Foundation

/// Everything control remembers between cycles. A value: the service keeps the
/// latest one (and may persist it, it is `Codable`), and passes it to the next cycle.
public struct ControlState: Sendable, Equatable, Codable {
    /// What operators may change at run time (slider, modes, manual currents, priorities).
    public var settings: ControlSettings
    public var budget: BudgetState
    /// Per charge point id.
    public var sessions: [String: ChargePointSession]
    /// Per node id: the house load of recent settled views (`TimingConfig.viewWindowSeconds`).
    /// Optional so state files saved before it existed still load.
    public var houseViews: [String: [HouseView]]?
    /// Per node id: the house load raises and starts are measured against — the highest load of
    /// the recent views, let down only by a fall of at least the hysteresis (`Sequencing.held`).
    /// Optional so older state files still load.
    public var heldViews: [String: HouseView]?
    /// What users read about how well control does (setpoint changes, time over a limit, room used).
    public var stats: ControlStats?

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
    /// When the current was last raised (increases are spaced by `increaseIntervalSeconds`).
    public var lastIncrease: Date?
    /// Since when a plugged-in car has been waiting without a current (taking turns).
    public var waitingSince: Date?
    /// The last report that showed the car drawing (at least `SessionUpdate.drawingCurrent`).
    public var drawnAt: Date?
    /// The car drew nothing for `idleSeconds` while running (full, or its own timer); cleared
    /// when a report shows it drawing. Optional so older state files still load.
    public var notDrawing: Bool?

    public init(phases: Int) { self.phases = phases }
}

/// The load a node's meter saw that control does not steer, from a settled view
/// (every car below it had followed its last setpoint when meter and reports were taken).
public struct HouseView: Sendable, Equatable, Codable {
    /// The meter reading's time.
    public var time: Date
    public var currents: PhaseCurrents
    public var power: Double

    public init(time: Date, currents: PhaseCurrents, power: Double) {
        self.time = time
        self.currents = currents
        self.power = power
    }
}

/// Running figures of control's own behaviour, kept with the state.
public struct ControlStats: Sendable, Equatable, Codable {
    /// Per charge point: times of the setpoint changes of the last hour.
    public var changes: [String: [Date]] = [:]
    /// Per charge point: setpoint changes since the statistics started.
    public var totalChanges: [String: Int] = [:]
    /// Per node: seconds a fresh meter reading showed a phase above the node's limit.
    public var overLimitSeconds: [String: Double] = [:]
    /// Per node: the time of the last meter reading counted.
    public var lastMeterTime: [String: Date] = [:]
    /// ∫ what the cars were given (A × phases × s) and ∫ what the solver found room for.
    public var usedAmpereSeconds: Double = 0
    public var availableAmpereSeconds: Double = 0
    /// The last decision's time, to weigh the room figures by time.
    public var lastDecision: Date?
    public var since: Date?

    public init() {}

    /// The share of the available room the cars were given, 0…1 (`nil` before any room was available).
    public var roomShare: Double? { availableAmpereSeconds > 0 ? min(1, usedAmpereSeconds / availableAmpereSeconds) : nil }

    /// Setpoint changes of one charge point over the last hour.
    public func changesLastHour(_ chargePoint: String) -> Int { changes[chargePoint]?.count ?? 0 }
}

/// One decided change of a charge point's current.
public struct SetpointChange: Sendable, Equatable, Codable {
    public var time: Date
    /// A per phase; 0 = paused.
    public var current: Double
    /// What the car's latest report showed it drawing when the change was decided, A (nil:
    /// unknown). A car lowered while still ramping up well below its new limit may go on rising
    /// to the old one for the EV response time: a report at or below the new limit then
    /// proves nothing.
    public var drawnBefore: Double?

    public init(time: Date, current: Double, drawnBefore: Double? = nil) {
        self.time = time
        self.current = current
        self.drawnBefore = drawnBefore
    }
}
