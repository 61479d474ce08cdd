import Foundation

/// The house battery's limits for one cycle: how much it may charge and discharge, W.
/// The inverter runs its own self-consumption inside them (it charges from export, it
/// discharges against import), so a limit never makes it draw from the grid nor export.
public struct BatteryLimits: Sendable, Equatable {
    public var maxChargeW: Double
    public var maxDischargeW: Double
    /// `surplus`, `full`, `no_room`; `self_consumption`, `peak`, `reserve`, `empty`, `cars`.
    public var chargeReason: String
    public var dischargeReason: String
}

/// What the battery planner remembers: the import energy of the running quarter hour,
/// integrated from the main meter as it really reads (battery included).
public struct BatteryPlannerState: Sendable, Equatable, Codable {
    public var quarterStart: Date?
    public var importWh: Double = 0
    public var last: Date?
    public var lastGridW: Double?
    /// The discharge the last cycle worked out: a rise is taken only when two cycles in a
    /// row ask for it (the meter and the inverter are read apart; one odd pair is not a load).
    public var lastDischargeW: Double?
    /// The charge the last cycle worked out: a fall is taken when two cycles in a row ask
    /// for it (a too-high charge limit costs nothing: it charges from export only).
    public var lastChargeW: Double?
    /// The charge limit last handed out, W, and when it changed: a fall waits for a battery
    /// report taken `BatteryPlanner.followSeconds` after that change.
    public var sentChargeW: Double?
    public var chargeChangedAt: Date?

    public init() {}

    /// Adds the import since the last reading; a new quarter starts from 0.
    mutating func record(gridW: Double?, now: Date, quarterStart start: Date) {
        if quarterStart != start {
            // The part of the step that belongs to the new quarter.
            let from = max(last ?? start, start)
            importWh = max(0, lastGridW ?? 0) * max(0, now.timeIntervalSince(from)) / 3600
            quarterStart = start
        } else if let last, let g = lastGridW, now > last {
            importWh += max(0, g) * min(now.timeIntervalSince(last), 60) / 3600
        }
        last = now
        lastGridW = gridW
    }
}

/// The battery planner: pure, stepped on injected time.
///
/// - **Charge** from the surplus handed to `battery` in the sun's order (what the loads
///   ranked above it left), up to `max_charge_w`; nothing above `max_soc`; within the
///   per-phase room of the main connection on the phases it feeds. A fall is taken when two
///   cycles in a row ask for it (the meter and the inverter's report are read apart).
/// - **Discharge**, above `reserve_soc`: to cover the household's own import (self-
///   consumption); above `min_soc`: to keep the quarter-hour average import under the
///   budget's aim (`peak_shaving`) — what the rest of the quarter may still average,
///   from the quarter's real import so far. Never into the cars (the household's import
///   without them caps it) unless `to_cars: true`. A rise is taken when two cycles in a
///   row ask for it; a fall at once.
public enum BatteryPlanner {
    public struct Inputs: Sendable {
        public var now: Date
        /// The main meter's power as it really reads, W (+ import, battery included); nil when stale.
        public var gridW: Double?
        /// The battery's power now, W (+ discharge).
        public var batteryW: Double
        /// When the battery's power was read; nil = now (read with the meter).
        public var batteryTime: Date?
        public var soc: Double
        /// What the cars draw now, W.
        public var carsW: Double
        /// The surplus left to the battery in the sun's order, W (its own charge included).
        public var surplusW: Double
        public var budget: BudgetFigures?
        /// The main connection's per-phase current limit and what its meter read (A).
        public var rootLimit: PhaseCurrents?
        public var rootCurrents: PhaseCurrents?
        public var voltage: Double
        public var breakerMarginA: Double

        public init(now: Date, gridW: Double?, batteryW: Double, soc: Double, carsW: Double, surplusW: Double,
                    budget: BudgetFigures?, rootLimit: PhaseCurrents? = nil, rootCurrents: PhaseCurrents? = nil,
                    voltage: Double = 230, breakerMarginA: Double = 0.5, batteryTime: Date? = nil) {
            self.now = now
            self.batteryTime = batteryTime
            self.gridW = gridW
            self.batteryW = batteryW
            self.soc = soc
            self.carsW = carsW
            self.surplusW = surplusW
            self.budget = budget
            self.rootLimit = rootLimit
            self.rootCurrents = rootCurrents
            self.voltage = voltage
            self.breakerMarginA = breakerMarginA
        }
    }

    /// How long after a new charge limit the battery's report shows it followed, s.
    public static let followSeconds: TimeInterval = 5

    /// Import allowed on average for the rest of the quarter to end at the aim, W; nil
    /// without budget figures. The rest counts at least 30 s (no division by nothing).
    static func allowedRestW(_ budget: BudgetFigures, importWh: Double, now: Date) -> Double {
        let quarter = budget.quarterEnd.timeIntervalSince(budget.quarterStart)
        let rest = max(30, budget.quarterEnd.timeIntervalSince(now))
        return (budget.aimW * quarter / 3600 - importWh) * 3600 / rest
    }

    /// The limits for this cycle, or nil (nothing to decide: the main meter is stale).
    public static func step(_ state: inout BatteryPlannerState, config: BatteryConfig, inputs i: Inputs) -> BatteryLimits? {
        guard let maxCharge = config.maxChargeW, let maxDischarge = config.maxDischargeW else { return nil }
        if let b = i.budget { state.record(gridW: i.gridW, now: i.now, quarterStart: b.quarterStart) }
        guard let grid = i.gridW else { return nil }

        // Charge.
        var charge = min(maxCharge, max(0, i.surplusW))
        var chargeWhy = charge > 0 ? "surplus" : "no_surplus"
        if i.soc >= config.maxSoC {
            charge = 0
            chargeWhy = "full"
        } else if charge > 0, let limit = i.rootLimit, let currents = i.rootCurrents {
            // Its charging is a load on its phases: the room left under the main's limit
            // (the meter already shows what it charges now).
            let phases = config.phases >= 3 ? [0, 1, 2] : [0]
            let share = Double(phases.count) * i.voltage
            let nowCharging = max(0, -i.batteryW)
            let room = phases.map { (limit[$0] - i.breakerMarginA - currents[$0]) * share }.min() ?? 0
            if nowCharging + room < charge {
                charge = max(0, nowCharging + room)
                chargeWhy = "no_room"
            }
        }

        let rawCharge = charge
        if chargeWhy == "surplus" || chargeWhy == "no_surplus" {
            charge = max(charge, min(state.lastChargeW ?? charge, maxCharge))
            // The surplus is the export plus what the battery charges; with the battery read
            // less often than the meter (Huawei: every 10 s), a fresh meter beside a report
            // taken before the battery followed its last limit shows its own charging as
            // gone. A fall waits for a report taken after it followed.
            if let sent = state.sentChargeW, charge < sent, let changed = state.chargeChangedAt,
               (i.batteryTime ?? i.now) < changed + followSeconds {
                charge = min(sent, maxCharge)
            }
            if charge > 0 { chargeWhy = "surplus" }
        }
        state.lastChargeW = rawCharge
        if state.sentChargeW != charge.rounded() {
            state.sentChargeW = charge.rounded()
            state.chargeChangedAt = i.now
        }

        // Discharge: the household's import without the battery (and without the cars).
        let withoutBattery = grid + i.batteryW
        let household = config.toCars ? withoutBattery : withoutBattery - i.carsW
        var discharge = 0.0
        var dischargeWhy = "no_import"
        if i.soc <= config.minSoC {
            dischargeWhy = "empty"
        } else {
            if i.soc > config.resolvedReserveSoC, household > 0 {
                discharge = household
                dischargeWhy = "self_consumption"
            }
            if config.peakShaving, let b = i.budget, b.meterFresh {
                let need = withoutBattery - allowedRestW(b, importWh: state.importWh, now: i.now)
                let peak = min(max(0, need), max(0, household))
                if peak > discharge {
                    discharge = peak
                    dischargeWhy = "peak"
                }
            }
            if discharge == 0, i.soc <= config.resolvedReserveSoC { dischargeWhy = "reserve" }
            if discharge == 0, !config.toCars, withoutBattery > 0, household <= 0 { dischargeWhy = "cars" }
        }
        let raw = discharge
        discharge = min(maxDischarge, raw, state.lastDischargeW ?? raw)
        state.lastDischargeW = raw
        return BatteryLimits(maxChargeW: charge.rounded(), maxDischargeW: discharge.rounded(),
                             chargeReason: chargeWhy, dischargeReason: dischargeWhy)
    }
}
