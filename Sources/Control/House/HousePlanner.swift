import Foundation

/// An operator's forced state for a house load, until `until`.
public struct HouseOverride: Sendable, Equatable, Codable {
    /// A regime name for the heat pump, `on` / `off` for a relay.
    public var value: String
    public var until: Date

    public init(value: String, until: Date) {
        self.value = value
        self.until = until
    }
}

/// What control remembers about the house loads between cycles.
public struct HouseState: Sendable, Equatable, Codable {
    public var heatPump: HeatPumpRegimeMachine?
    /// Since when the export has asked for a regime below the heat pump's (`step_down_delay_seconds`).
    public var heatPumpLowSince: Date?
    public var relays: [String: SurplusRelayMachine]
    /// Operator overrides by load id (heat pump id or relay id).
    public var overrides: [String: HouseOverride]
    /// The battery planner's quarter-hour import and the export limiter's limit.
    public var battery: BatteryPlannerState?
    public var exportLimiter: ExportLimiterState?

    public init(heatPump: HeatPumpRegimeMachine? = nil, relays: [String: SurplusRelayMachine] = [:],
                overrides: [String: HouseOverride] = [:]) {
        self.heatPump = heatPump
        self.relays = relays
        self.overrides = overrides
    }
}

/// What the house planner reads each cycle (all measured or decided elsewhere; no I/O).
public struct HouseInputs: Sendable {
    public var now: Date
    /// The main connection's signed power, W (+ import); nil when its meter is stale.
    public var gridPowerW: Double?
    /// Power the cars were just given that they take only from the surplus (solar mode), W.
    public var solarCarsW: Double
    /// Some car waits for or is held down by the quarter-hour budget.
    public var carsShortOfBudget: Bool
    /// What the cars the budget would stop but their minimum run time keeps at their
    /// minimum still draw, averaged over the rest of the quarter, W: they cannot give way,
    /// so the loads that use the budget do.
    public var carsHeldW: Double
    /// The cars' decision's budget and panel figures (per-phase room).
    public var budget: BudgetFigures?
    public var nodes: [NodeFigures]
    public var tariff: TariffSignals?
    /// The house battery's power, W (+ = discharge, the vocabulary's sign); nil without one.
    /// Its charging is surplus it takes where `battery` stands in the priorities; its
    /// discharge is never surplus (a relay must not run on the battery).
    public var batteryW: Double?
    /// When `batteryW` was read (the inverter is polled apart from the meter); nil = now.
    public var batteryTime: Date?
    /// The main meter's per-phase currents as last read (as the cars' cycle saw them):
    /// cars lowered in this decision still draw their old current until they follow, so a
    /// load switches on only into room free both here and in the decided figures.
    public var rootCurrents: PhaseCurrents?
    /// The battery's state of charge, %, nil when unknown or stale.
    public var batterySoC: Double?
    /// The export-limited inverter's AC output now, W; nil when unknown or stale.
    public var inverterW: Double?
    /// What the cars draw now, W (their reports).
    public var carsW: Double
    /// The main meter's power as it reads, W (+ import), without loads still pending; nil when stale.
    public var measuredGridW: Double?
    /// The main meter's per-phase currents as they read (battery included), A.
    public var measuredRootCurrents: PhaseCurrents?
    /// Relays whose last command the gateway refused or could not write (`relay/<id>/applied`),
    /// until it reports their state: their real state is unknown.
    public var unconfirmedRelays: Set<String> = []

    public init(now: Date, gridPowerW: Double?, solarCarsW: Double = 0, carsShortOfBudget: Bool = false,
                carsHeldW: Double = 0, budget: BudgetFigures? = nil, nodes: [NodeFigures] = [], tariff: TariffSignals? = nil,
                batteryW: Double? = nil, rootCurrents: PhaseCurrents? = nil, batterySoC: Double? = nil,
                inverterW: Double? = nil, carsW: Double = 0, measuredGridW: Double? = nil,
                measuredRootCurrents: PhaseCurrents? = nil) {
        self.now = now
        self.batterySoC = batterySoC
        self.inverterW = inverterW
        self.carsW = carsW
        self.measuredGridW = measuredGridW ?? gridPowerW
        self.measuredRootCurrents = measuredRootCurrents
        self.gridPowerW = gridPowerW
        self.batteryW = batteryW
        self.rootCurrents = rootCurrents
        self.solarCarsW = solarCarsW
        self.carsShortOfBudget = carsShortOfBudget
        self.carsHeldW = carsHeldW
        self.budget = budget
        self.nodes = nodes
        self.tariff = tariff
    }
}

/// The heat pump after a cycle.
public struct HeatPumpDecision: Sendable, Equatable {
    public var id: String
    public var regime: HeatPumpRegime
    /// What the surplus, the tariff, the budget or an operator asked for.
    public var wanted: HeatPumpRegime
    public var reason: String
    /// Relay ids and their states (SG0, SG1).
    public var relays: [(id: String, on: Bool)]
    public var powerW: Double
    public var since: Date

    public static func == (a: Self, b: Self) -> Bool {
        a.id == b.id && a.regime == b.regime && a.wanted == b.wanted && a.reason == b.reason && a.powerW == b.powerW
            && a.since == b.since && a.relays.map(\.id) == b.relays.map(\.id) && a.relays.map(\.on) == b.relays.map(\.on)
    }
}

/// A plain relay after a cycle.
public struct RelayDecision: Sendable, Equatable {
    public var id: String
    public var on: Bool
    public var reason: SurplusRelayMachine.Reason
    public var powerW: Double
    public var since: Date
}

/// The house after a cycle.
public struct HouseDecision: Sendable, Equatable {
    public var heatPump: HeatPumpDecision?
    public var relays: [RelayDecision]
    public var tariff: TariffOutcome
    /// Loads switched on (or stepped up) in this step: the meters do not show them yet.
    public var switchedOn: [PendingLoad] = []
    /// The battery's charge and discharge limits (a steered battery with fresh readings).
    public var battery: BatteryLimits?
    /// The export-limited inverter's active-power limit.
    public var exportLimit: ExportLimitDecision?
    /// Every relay id and the state control wants, heat pump contacts included.
    public var relayStates: [(id: String, on: Bool)] {
        (heatPump?.relays ?? []) + relays.map { ($0.id, $0.on) }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.heatPump == b.heatPump && a.relays == b.relays && a.tariff == b.tariff && a.switchedOn == b.switchedOn
            && a.battery == b.battery && a.exportLimit == b.exportLimit
    }
}

/// The whole-house step: who gets the sun first, who gives way when power is short,
/// the tariff rules, and the limits — for the heat pump and the plain relays. Pure:
/// same state and inputs, same result.
///
/// - **Sun**: the export there would be with every managed load at its base (relays off,
///   heat pump in Normal), plus what solar-only cars were given and what the battery
///   charges, minus what the battery discharges, is handed out in `priorities` order;
///   `cars` and `battery` take their share where they stand in the list.
/// - **Giving way**: when the household (without cars), plus the cars the minimum run time
///   keeps at their minimum, plus the loads that gave way already (they would come back),
///   would end the quarter above the target, loads that use the budget (a relay forced on
///   by a timer, the heat pump in Normal) are shed in the reverse order until the excess
///   is covered (a load held by its dwell covers only the rest after it may leave); those
///   ranked below `cars` also give way whenever a car is held down by the budget.
/// - **Limits**: a load switches on (a regime steps up) only when its configured current
///   fits under every limit of its panel and the panels above, beside the cars as decided;
///   a limit exceeded on its phases sheds it at once (dwell and minimum on time ignored).
/// - **Tariff**: rules cap the heat pump, shed or force relays (see `TariffSignalRules`).
public struct HousePlanner: Sendable {
    public var config: HouseConfig
    public var model: SiteModel
    public var preset: Preset
    public var calendar: Calendar
    public var heatPumpModel: HeatPumpModel?

    public init(config: HouseConfig, model: SiteModel, preset: Preset, timeZone: TimeZone, heatPumpModel: HeatPumpModel? = nil) {
        self.config = config
        self.model = model
        self.preset = preset
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        self.heatPumpModel = heatPumpModel
    }

    public var heatPumpRules: HeatPumpRegimeMachine.Rules? {
        config.heatPump.map { HeatPumpRegimeMachine.Rules(config: $0, preset: preset, model: heatPumpModel) }
    }

    /// The initial state: heat pump in Normal (its own regulation), relays off.
    public func initialState(now: Date) -> HouseState {
        var s = HouseState()
        if config.heatPump != nil { s.heatPump = HeatPumpRegimeMachine(regime: .normal, since: now) }
        for r in config.relays { s.relays[r.id] = SurplusRelayMachine(on: false, since: now) }
        return s
    }

    /// The state after a restart. While control was away the gateway set every relay to its
    /// default (relays off, heat pump Normal), so that is where control starts, since now;
    /// kept from before: the operators' overrides still running and the heat pump's Off
    /// accounting — an Off cut short by the restart, or a Normal that must follow an Off,
    /// forbids Off for `normal_after_off_seconds`, so a restart never chains two Offs.
    public func restoredState(_ saved: HouseState?, now: Date) -> HouseState {
        var s = initialState(now: now)
        guard let saved else { return s }
        s.overrides = saved.overrides.filter { $0.value.until > now }
        if let old = saved.heatPump, let hp = config.heatPump {
            var until = old.offBlockedUntil.flatMap { $0 > now ? $0 : nil }
            if old.regime == .off { until = max(until ?? now, now + hp.normalAfterOffSeconds) }
            s.heatPump = HeatPumpRegimeMachine(regime: .normal, since: now, offBlockedUntil: until)
        }
        return s
    }

    public func step(_ state: HouseState, inputs: HouseInputs) -> (state: HouseState, decision: HouseDecision) {
        var next = state
        let now = inputs.now
        next.overrides = state.overrides.filter { $0.value.until > now }
        let tariff = TariffSignalRules.evaluate(config.tariff?.rules ?? [], signals: inputs.tariff, now: now)
        let voltage = model.voltage

        // Base export: every managed load at its base (relays off, heat pump in Normal).
        var managedOn = 0.0
        if let hp = config.heatPump, let m = state.heatPump, !hp.relays.contains(where: inputs.unconfirmedRelays.contains) {
            managedOn += hp.power(m.regime) - hp.power(.normal)
        }
        // A relay whose last command the gateway refused or failed to write may not draw
        // what the planner believes: its power is not handed out as surplus.
        for r in config.relays where state.relays[r.id]?.on == true && !inputs.unconfirmedRelays.contains(r.id) {
            managedOn += r.powerW
        }
        let export = inputs.gridPowerW.map { -$0 }
        let battery = inputs.batteryW ?? 0
        var remaining = export.map { $0 + managedOn + inputs.solarCarsW - battery } ?? -Double.infinity

        // Who gives way for the budget.
        let order = config.resolvedPriorities
        let carsRank = order.firstIndex(of: HouseConfig.carsEntry) ?? order.count
        var shed = Set<String>()
        if let b = inputs.budget, b.meterFresh {
            let uses = order.map { budgetUse($0, state: state, overrides: next.overrides, tariff: tariff, now: now) }
            // The rest of the quarter: the household as estimated, the cars that cannot stop
            // yet, and the loads off now that would come back unless they keep giving way
            // (the meters no longer show them: without them a load given way returns as soon
            // as its own absence covers the deficit, and flaps with its dwell times).
            var deficit = b.householdEstimateW + inputs.carsHeldW - b.toleratedRestW
            for use in uses where !use.on { deficit += use.watts }
            let rest = max(1, b.quarterEnd.timeIntervalSince(now))
            for (rank, id) in order.enumerated().reversed() where id != HouseConfig.carsEntry && id != HouseConfig.batteryEntry {
                let use = uses[rank]
                guard use.watts > 0 else { continue }
                if rank > carsRank && inputs.carsShortOfBudget {
                    shed.insert(id)
                } else if deficit > 0 {
                    shed.insert(id)
                    // A load held on by its dwell or minimum on time covers only the part of
                    // the quarter after it may leave: the next ones give way too.
                    let off = use.on ? max(now, use.earliestOff) : now
                    deficit -= use.watts * max(0, b.quarterEnd.timeIntervalSince(off)) / rest
                }
            }
        }

        var hpDecision: HeatPumpDecision?
        var relayDecisions: [String: RelayDecision] = [:]
        var switchedOn: [PendingLoad] = []
        var batterySurplus = 0.0
        for id in order {
            if id == HouseConfig.carsEntry {
                remaining -= inputs.solarCarsW
                continue
            }
            if id == HouseConfig.batteryEntry {
                batterySurplus = remaining
                remaining -= max(0, -battery)
                continue
            }
            if let hp = config.heatPump, hp.id == id, var machine = state.heatPump, let rules = heatPumpRules {
                let d = stepHeatPump(hp, &machine, lowSince: &next.heatPumpLowSince, rules: rules, surplus: remaining,
                                     shed: shed.contains(id), tariff: tariff, override: next.overrides[id], inputs: inputs,
                                     voltage: voltage)
                if let before = state.heatPump?.regime, machine.regime > before {
                    let extra = hp.wiring.currents(watts: hp.power(machine.regime) - hp.power(before), voltage: voltage)
                    switchedOn.append(PendingLoad(panel: hp.wiring.panel, currents: extra, since: now))
                }
                next.heatPump = machine
                hpDecision = d
                remaining -= hp.power(machine.regime) - hp.power(.normal)
                continue
            }
            if let r = config.relays.first(where: { $0.id == id }) {
                var machine = state.relays[id] ?? SurplusRelayMachine(on: false, since: now)
                let loadCurrents = r.wiring.currents(watts: r.powerW, voltage: voltage)
                let operatorState = next.overrides[id].map { $0.value == "on" }
                let input = SurplusRelayMachine.Inputs(
                    surplusW: remaining,
                    forcedOn: tariff.forcesOn(id) || r.timers.contains { $0.contains(now, calendar: calendar) },
                    shed: shed.contains(id) || tariff.sheds(id),
                    noRoom: !fits(loadCurrents, panel: r.wiring.panel, inputs: inputs,
                                  alreadyCounted: machine.on && !inputs.unconfirmedRelays.contains(id)),
                    urgentOff: exceeded(on: r.wiring.mask, panel: r.wiring.panel, nodes: inputs.nodes),
                    operatorState: operatorState)
                let wasOn = machine.on
                let reason = machine.step(input, config: r, now: now)
                if machine.on && !wasOn { switchedOn.append(PendingLoad(panel: r.wiring.panel, currents: loadCurrents, since: now)) }
                next.relays[id] = machine
                if machine.on { remaining -= r.powerW }
                relayDecisions[id] = RelayDecision(id: id, on: machine.on, reason: reason, powerW: machine.on ? r.powerW : 0,
                                                   since: machine.since)
            }
        }
        let relays = config.relays.compactMap { relayDecisions[$0.id] }
        var decision = HouseDecision(heatPump: hpDecision, relays: relays, tariff: tariff, switchedOn: switchedOn)
        // Loads switched off or stepped down in this decision: export the meter will show.
        var released = 0.0
        if let hp = config.heatPump, let before = state.heatPump?.regime, let after = next.heatPump?.regime, after < before {
            released += hp.power(before) - hp.power(after)
        }
        for r in config.relays where state.relays[r.id]?.on == true && next.relays[r.id]?.on == false { released += r.powerW }
        stepStorage(&next, &decision, inputs: inputs, batterySurplusW: batterySurplus, releasedW: released)
        return (next, decision)
    }

    /// What a load takes from the budget unless it gives way: a relay forced on by a timer
    /// or the tariff, the heat pump's Normal (Off included: it comes back unless it keeps
    /// giving way); nothing for a load an operator forces or the tariff keeps off.
    struct BudgetUse {
        var watts: Double
        /// On now (the meters show it); off = given way already.
        var on: Bool
        /// The earliest time it may switch off (its dwell or minimum on time).
        var earliestOff: Date
    }

    func budgetUse(_ id: String, state: HouseState, overrides: [String: HouseOverride], tariff: TariffOutcome, now: Date)
        -> BudgetUse
    {
        let none = BudgetUse(watts: 0, on: false, earliestOff: now)
        guard overrides[id] == nil else { return none }
        if let hp = config.heatPump, hp.id == id, let m = state.heatPump, let rules = heatPumpRules {
            if m.regime == .off && tariff.heatPumpCap == .off { return none }
            return BudgetUse(watts: hp.power(.normal), on: m.regime >= .normal, earliestOff: m.earliestChange(rules: rules))
        }
        if let r = config.relays.first(where: { $0.id == id }), let m = state.relays[id], !tariff.sheds(id),
            tariff.forcesOn(id) || r.timers.contains(where: { $0.contains(now, calendar: calendar) })
        {
            return BudgetUse(watts: r.powerW, on: m.on, earliestOff: m.since + r.minOnSeconds)
        }
        return none
    }

    private func stepHeatPump(
        _ hp: HeatPumpConfig, _ machine: inout HeatPumpRegimeMachine, lowSince: inout Date?,
        rules: HeatPumpRegimeMachine.Rules, surplus: Double,
        shed: Bool, tariff: TariffOutcome, override: HouseOverride?, inputs: HouseInputs, voltage: Double
    ) -> HeatPumpDecision {
        let current = machine.regime
        var wanted: HeatPumpRegime
        var why: String
        if surplus >= hp.boostExportW - (current >= .boost ? hp.hysteresisW : 0) {
            wanted = .boost
            why = "export \(Int(surplus.rounded())) W ≥ boost threshold"
        } else if surplus >= hp.comfortExportW - (current >= .comfort ? hp.hysteresisW : 0) {
            wanted = .comfort
            why = "export \(Int(surplus.rounded())) W ≥ comfort threshold"
        } else {
            wanted = .normal
            why = surplus.isFinite ? "export \(Int(surplus.rounded())) W below the comfort threshold" : "main meter stale"
        }
        // A step down for the export waits until the export has stayed low for the delay.
        if wanted < current && surplus.isFinite && current > .normal {
            let since = lowSince ?? inputs.now
            lowSince = since
            let until = since + hp.stepDownDelaySeconds
            if inputs.now < until {
                wanted = current
                why += "; stepping down at \(until) if it stays low"
            }
        } else {
            lowSince = nil
        }
        if let cap = tariff.heatPumpCap, wanted > cap {
            wanted = cap
            why = "tariff: \(tariff.active.map(\.rawValue).joined(separator: ", "))"
        }
        if shed {
            wanted = .off
            why = "giving way: the quarter-hour budget is short"
        }
        if let override, let regime = HeatPumpRegime(name: override.value) {
            wanted = regime
            why = "operator until \(override.until)"
        }
        let urgent = exceeded(on: hp.wiring.mask, panel: hp.wiring.panel, nodes: inputs.nodes)
        if urgent {
            wanted = .off
            why = "a limit of its panel is exceeded"
        }
        wanted = rules.clamp(wanted)
        // Step up only when the next regime's extra current fits.
        if wanted > current, let up = rules.above(current) {
            let extra = hp.wiring.currents(watts: max(0, hp.power(up) - hp.power(current)), voltage: voltage)
            if !fits(extra, panel: hp.wiring.panel, inputs: inputs, alreadyCounted: false) {
                wanted = current
                why = "no room for \(up) under a limit of its panel"
            }
        }
        let hold = machine.step(wanted: wanted, now: inputs.now, rules: rules, urgent: urgent)
        switch hold {
        case .none: break
        case .dwell(let until):
            if machine.regime != wanted { why += "; holding \(machine.regime) until \(until)" }
        case .offLimit(let until): why = "Off lasted its maximum: Normal until \(until)"
        }
        let contacts = machine.regime.contacts
        var relays: [(id: String, on: Bool)] = []
        if hp.relays.count >= 1 { relays.append((hp.relays[0], contacts.sg0)) }
        if hp.relays.count >= 2 { relays.append((hp.relays[1], contacts.sg1)) }
        // Opening contacts first: a step changes one contact, except a drop from Comfort
        // (0:1) to Off (1:0), which then passes through Normal (0:0), never through Boost.
        relays.sort { !$0.on && $1.on }
        return HeatPumpDecision(
            id: hp.id, regime: machine.regime, wanted: wanted, reason: why, relays: relays, powerW: hp.power(machine.regime),
            since: machine.since)
    }

    /// The panel `id` (nil = the root) and every panel above it, as node indices.
    func panelChain(_ id: String?) -> [Int] {
        var n = id.flatMap { pid in model.nodes.firstIndex { $0.id == pid } } ?? 0
        var chain = [n]
        while let p = model.nodes[n].parent {
            chain.append(p)
            n = p
        }
        return chain
    }

    /// Whether `currents` more fit under every limit of the panel chain (breaker margin kept),
    /// beside the cars as decided and, at the main connection, beside what its meter read
    /// (a car lowered in this decision still draws its old current for a few seconds: break
    /// before make). `alreadyCounted`: the load is on and in the meter already.
    func fits(_ currents: PhaseCurrents, panel: String?, inputs: HouseInputs, alreadyCounted: Bool) -> Bool {
        guard !alreadyCounted else { return true }
        let nodes = inputs.nodes
        let margin = model.timing.breakerMarginA
        for n in panelChain(panel) where n < nodes.count {
            let f = nodes[n]
            guard f.meterFresh else { return false }
            let measured = n == 0 ? inputs.rootCurrents : nil
            for p in 0..<3 where currents[p] > 0 {
                if f.expected[p] + currents[p] > f.limit[p] - margin { return false }
                if let m = measured, m[p] + currents[p] > f.limit[p] - margin { return false }
            }
            if let limitW = model.nodes[n].powerLimitW,
                (f.expected * model.voltage).sum() + (currents * model.voltage).sum() > limitW
            {
                return false
            }
        }
        return true
    }

    /// A limit of the panel chain is exceeded on a phase the load draws from, with the cars as decided.
    func exceeded(on mask: PhaseCurrents, panel: String?, nodes: [NodeFigures]) -> Bool {
        for n in panelChain(panel) where n < nodes.count {
            let f = nodes[n]
            guard f.meterFresh else { continue }
            for p in 0..<3 where mask[p] > 0 && f.expected[p] > f.limit[p] { return true }
        }
        return false
    }
}
