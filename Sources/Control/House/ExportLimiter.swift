import Foundation

/// The inverter's active-power limit after a cycle.
public struct ExportLimitDecision: Sendable, Equatable {
    /// The limit to write, W; nil = no limit (the inverter's rated power).
    public var limitW: Double?
    /// `free`, `curtailed`, `releasing`, `settling`, `meter_stale`, `phase_export`.
    public var reason: String
}

/// What the export limiter remembers: the limit last decided and when it changed.
public struct ExportLimiterState: Sendable, Equatable, Codable {
    public var limitW: Double?
    public var changed: Date?
    public init(limitW: Double? = nil, changed: Date? = nil) {
        self.limitW = limitW
        self.changed = changed
    }
}

/// Anti-backflow: the export at the main connection never above `max_export_w` for
/// longer than the inverter takes to follow a new limit. Pure, time injected.
///
/// The managed loads come first: they see the export up to the limit as surplus (the
/// heat pump, relays, solar cars and the battery's charging take it in the sun's order),
/// so the inverter stays curtailed only while they cannot absorb what it could give.
/// Each cycle the limit aims at `max_export_w − margin_w`, counting the power the loads
/// release in the same decision (a relay off, the heat pump down, the battery's charge
/// limit lowered) as export already:
/// - **over** (export above the aim, or a phase exporting more than the main's limit):
///   the limit drops at once to the inverter's output minus the excess (from the limit
///   itself when, settled, the inverter's report would not lower it);
/// - **under**: the limit rises by half the room (none within half the margin), at most once per `settle_seconds`
///   (the inverter's response and a fresh meter reading), and is lifted altogether once
///   it reaches the rated power;
/// - **main meter stale**: the limit falls to `max_export_w` (with no house load at all
///   the export cannot pass it).
public enum ExportLimiter {
    public struct Inputs: Sendable {
        public var now: Date
        /// The main meter's power, W (+ import); nil when stale.
        public var gridW: Double?
        /// The inverter's AC output now, W; nil when unknown (stale).
        public var inverterW: Double?
        /// The main connection's per-phase currents (+ import) and limit, A.
        public var rootCurrents: PhaseCurrents?
        public var rootLimit: PhaseCurrents?
        public var voltage: Double
        /// Power the loads release in this very decision (a relay switched off, the heat pump
        /// stepping down, the battery's charge limit lowered), W: export the meter will show.
        public var releasedW: Double

        public init(now: Date, gridW: Double?, inverterW: Double?, rootCurrents: PhaseCurrents? = nil,
                    rootLimit: PhaseCurrents? = nil, voltage: Double = 230, releasedW: Double = 0) {
            self.now = now
            self.releasedW = releasedW
            self.gridW = gridW
            self.inverterW = inverterW
            self.rootCurrents = rootCurrents
            self.rootLimit = rootLimit
            self.voltage = voltage
        }
    }

    public static func step(_ state: inout ExportLimiterState, config c: ExportLimitConfig, inputs i: Inputs)
        -> ExportLimitDecision
    {
        func set(_ limit: Double?, _ reason: String) -> ExportLimitDecision {
            let l = limit.map { max(0, $0.rounded()) }.flatMap { $0 >= c.ratedPowerW ? nil : $0 }
            if l != state.limitW {
                state.limitW = l
                state.changed = i.now
            }
            return ExportLimitDecision(limitW: l, reason: reason)
        }
        guard let grid = i.gridW, let output = i.inverterW else {
            return set(min(state.limitW ?? c.ratedPowerW, c.maxExportW), "meter_stale")
        }
        let aim = max(0, c.maxExportW - c.marginW)
        var excess = -grid + i.releasedW - aim
        var reason = "curtailed"
        if let currents = i.rootCurrents, let limit = i.rootLimit {
            // A phase exporting more current than the main connection takes.
            let phaseExcess = (0..<3).map { -currents[$0] - limit[$0] }.max() ?? 0
            if phaseExcess > 0, phaseExcess * i.voltage * 3 > excess {
                excess = phaseExcess * i.voltage * 3
                reason = "phase_export"
            }
        }
        let current = state.limitW ?? c.ratedPowerW
        if excess > 0 {
            // Its output must drop by the excess; a limit it has not followed yet (output
            // still above it) is not lowered twice for the same excess.
            var target = output - excess
            if target >= current, state.changed.map({ i.now.timeIntervalSince($0) >= c.settleSeconds }) ?? true {
                // Settled, yet the meter still sees too much: its report overstates what it
                // gives (or counts a battery); the meter is believed, from the limit.
                target = current - excess
            }
            return set(min(current, target), reason)
        }
        guard state.limitW != nil else { return ExportLimitDecision(limitW: nil, reason: "free") }
        if let changed = state.changed, i.now.timeIntervalSince(changed) < c.settleSeconds {
            return ExportLimitDecision(limitW: state.limitW, reason: "settling")
        }
        // Room under the aim: raise by half of it (meter and inverter are read apart);
        // less room than half the margin is where it should stay.
        let room = -excess
        guard room >= c.marginW / 2 else { return ExportLimitDecision(limitW: state.limitW, reason: "curtailed") }
        let raised = current + room / 2
        return set(raised, raised >= c.ratedPowerW ? "free" : "releasing")
    }
}
