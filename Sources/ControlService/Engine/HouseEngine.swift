import Control
import Foundation
import PhasorCore

/// The house loads' side of the engine (heat pump, plain relays, tariff signals), free
/// of MQTT: it remembers the latest tariff signals and the planner's state, decides after
/// the cars' decision, and says which relay commands are due.
struct HouseEngine: Sendable {
    let planner: HousePlanner
    /// The device whose readings carry the tariff signals.
    let tariffMeter: String?
    private(set) var state: HouseState
    private(set) var tariff: TariffSignals?
    /// Loads switched on that the meters may not show yet (`PendingLoads`).
    private(set) var pending: [PendingLoad] = []
    /// The battery's last `battery_power` (+ = discharge) and when it was read.
    private(set) var battery: (watts: Double, time: Date)?
    /// The battery's last `battery_soc` and the export-limited inverter's last AC output.
    private(set) var batterySoC: (percent: Double, time: Date)?
    private(set) var inverterOutput: (watts: Double, time: Date)?
    /// What was last sent per inverter, and when.
    private var sentInverter: [String: (setpoint: InverterSetpoint, at: Date)] = [:]
    private(set) var inverterSequence = 0
    /// An unchanged inverter setpoint is sent again this often; the gateway holds it
    /// `inverterValidity` (then writes its safe values).
    static let inverterRefresh: TimeInterval = 10
    static let inverterValidity: TimeInterval = 60
    private(set) var last: HouseDecision?
    /// What was last sent per relay, and when.
    private var sent: [String: (on: Bool, at: Date)] = [:]
    /// What the gateway last reported per relay (`relay/<id>/state`, retained).
    private var reported: [String: Bool] = [:]
    /// The gateway's answers that did not switch a relay (`relay/<id>/applied`: `refused` or
    /// `failed`), until it reports the relay's state: its real state is unknown meanwhile.
    private(set) var refusals: [String: RelayRefusal] = [:]

    struct RelayRefusal: Sendable, Equatable {
        /// `refused` or `failed`.
        var result: String
        var reason: String
        /// The state the refused command asked for, when the answer says it.
        var on: Bool?
        var time: Date
    }
    /// A command is repeated this often while the gateway reports another state (it
    /// started after the command, or set its default when it judged control gone)…
    static let retry: TimeInterval = 2
    /// …and this often anyway.
    static let refresh: TimeInterval = 30

    init?(model: SiteModel, now: Date, heatPumpModel: HeatPumpModel? = nil, saved: HouseState? = nil) {
        guard let house = model.house else { return nil }
        planner = HousePlanner(
            config: house, model: model, preset: model.preset, timeZone: model.calendar.timeZone,
            heatPumpModel: heatPumpModel)
        if let meter = house.tariff?.meter {
            tariffMeter = meter
        } else if case .device(let id) = model.nodes[0].meter {
            tariffMeter = id
        } else {
            tariffMeter = nil
        }
        state = planner.restoredState(saved, now: now)
    }

    /// A meter reading: kept when it comes from the tariff meter and carries signals.
    mutating func record(reading: Reading) {
        if let b = planner.config.battery, reading.device == b.meter, let w = reading.number(.batteryPower),
            battery.map({ $0.time <= reading.time.date }) ?? true
        {
            battery = (w, reading.time.date)
            if let soc = reading.number(.batterySoC) { batterySoC = (soc, reading.time.date) }
        }
        if let e = planner.config.exportLimit, reading.device == e.inverter,
            inverterOutput.map({ $0.time <= reading.time.date }) ?? true
        {
            // AC output: the inverter's own figure, else PV plus the battery's discharge.
            if let w = reading.number(.inverterPower) ?? reading.number(.pvPower).map({ $0 + (reading.number(.batteryPower) ?? 0) }) {
                inverterOutput = (w, reading.time.date)
            }
        }
        guard reading.device == tariffMeter, let signals = TariffSignals(reading: reading) else { return }
        if let known = tariff, known.time > signals.time { return }
        tariff = signals
    }

    /// The limit the tariff rules put on cars now, applied to the cars' cycle.
    func carLimit(now: Date) -> TariffCarLimit? {
        TariffSignalRules.evaluate(planner.config.tariff?.rules ?? [], signals: tariff, now: now).cars
    }

    /// Settings with the tariff's car limit applied (automatic and manual points charge on
    /// surplus only, or not at all) — for this cycle only; the operator's settings stay.
    func limitedSettings(_ settings: ControlSettings, model: SiteModel, now: Date) -> ControlSettings {
        guard let limit = carLimit(now: now) else { return settings }
        var out = settings
        for cp in model.chargePoints {
            let mode = settings.modes[cp.id] ?? cp.mode
            switch limit {
            case .off: out.modes[cp.id] = .off
            case .solar: if mode != .off { out.modes[cp.id] = .solar }
            }
        }
        return out
    }

    /// The battery's power now, nil when none is configured or its reading is older than
    /// `BatteryView.maxAge`.
    func batteryW(now: Date) -> Double? {
        guard let b = battery, abs(now.timeIntervalSince(b.time)) <= BatteryView.maxAge else { return nil }
        return b.watts
    }

    /// A battery is configured but its reading is missing or old: the surplus is unknown.
    func batteryStale(now: Date) -> Bool { planner.config.battery != nil && batteryW(now: now) == nil }

    /// What the cars' cycle reads: the main meter as if the battery were not discharging,
    /// unless the site lets cars charge from it or control steers it (`BatteryView`).
    func measurementsForCars(_ m: Measurements, model: SiteModel, now: Date) -> Measurements {
        let withPending = PendingLoads.apply(m, model: model, pending: pending + unknownRelayLoads(model: model, now: now))
        // A steered battery never discharges beyond the household's own import (its limit),
        // so the cars cannot charge from it: they see the meter as it reads.
        guard let b = planner.config.battery, !b.toCars, !b.steered else { return withPending }
        return BatteryView.measurementsForCars(withPending, model: model, batteryW: batteryW(now: now), phases: b.phases)
    }

    /// One house step after the cars' decision.
    mutating func step(
        decision: Decision, settings: ControlSettings, model: SiteModel, measurements: Measurements, now: Date
    ) -> HouseDecision {
        let forCars = measurementsForCars(measurements, model: model, now: now)
        let fresh = { (t: Date?) in t.map { abs(now.timeIntervalSince($0)) <= BatteryView.maxAge } ?? false }
        var inputs = HouseInputs.afterCars(
            decision, settings: settings, model: model, measurements: measurements, forCars: forCars, pending: pending,
            now: now, tariff: tariff, batteryW: batteryW(now: now),
            batterySoC: fresh(batterySoC?.time) ? batterySoC?.percent : nil,
            inverterW: fresh(inverterOutput?.time) ? inverterOutput?.watts : nil)
        inputs.unconfirmedRelays = Set(refusals.keys)
        inputs.batteryTime = battery?.time
        let (next, house) = planner.step(state, inputs: inputs)
        state = next
        last = house
        pending = PendingLoads.prune(pending + house.switchedOn, now: now)
        return house
    }

    /// The gateway's `relay/<id>/state`: what the relay is now (a refusal is then settled).
    mutating func record(relay id: String, on: Bool) {
        reported[id] = on
        refusals[id] = nil
    }

    /// The gateway's `relay/<id>/applied`: `applied` settles a refusal, `refused` / `failed`
    /// makes the relay's state unknown until the gateway reports it.
    mutating func record(relayAnswer id: String, result: String, on: Bool?, reason: String?, time: Date) {
        guard result == "refused" || result == "failed" else {
            refusals[id] = nil
            return
        }
        refusals[id] = RelayRefusal(result: result, reason: reason ?? "", on: on, time: time)
    }

    /// A plain relay whose state is unknown counts as on in the cars' view, whatever the
    /// meter shows (the worst case for the budget and the limits): its current as a load
    /// pending now.
    private func unknownRelayLoads(model: SiteModel, now: Date) -> [PendingLoad] {
        planner.config.relays.filter { refusals[$0.id] != nil }.map { r in
            PendingLoad(panel: r.wiring.panel, currents: r.wiring.currents(watts: r.powerW, voltage: model.voltage), since: now)
        }
    }

    private func rootMeter(_ model: SiteModel) -> String? {
        if case .device(let id) = model.nodes[0].meter { return id }
        return nil
    }

    /// Relay commands due now: a changed state; the same again after `retry` while the
    /// gateway reports another state, and after `refresh` in any case.
    mutating func dueCommands(now: Date) -> [(id: String, on: Bool)] {
        guard let last else { return [] }
        var due: [(id: String, on: Bool)] = []
        for (id, on) in last.relayStates {
            if let s = sent[id], s.on == on, now >= s.at {
                let age = now.timeIntervalSince(s.at)
                let confirmed = reported[id] == on
                if age < Self.refresh && (confirmed || age < Self.retry) { continue }
            }
            sent[id] = (on, now)
            due.append((id, on))
        }
        return due
    }

    /// Inverter setpoints due now: a changed one at once, the same again every `inverterRefresh`.
    mutating func dueInverterSetpoints(now: Date) -> [(setpoint: InverterSetpoint, sequence: Int)] {
        guard let last else { return [] }
        var due: [(setpoint: InverterSetpoint, sequence: Int)] = []
        for sp in last.inverterSetpoints(config: planner.config) {
            if let s = sentInverter[sp.device], s.setpoint.activePowerLimitW == sp.activePowerLimitW,
                s.setpoint.batteryMaxChargeW == sp.batteryMaxChargeW, s.setpoint.batteryMaxDischargeW == sp.batteryMaxDischargeW,
                now >= s.at, now.timeIntervalSince(s.at) < Self.inverterRefresh
            {
                continue
            }
            inverterSequence += 1
            sentInverter[sp.device] = (sp, now)
            due.append((sp, inverterSequence))
        }
        return due
    }

    /// An operator's forced state until `until`; nil clears it.
    mutating func override(_ id: String, value: String?, until: Date) {
        if let value { state.overrides[id] = HouseOverride(value: value, until: until) } else { state.overrides[id] = nil }
    }
}
