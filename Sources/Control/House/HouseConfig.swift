import Foundation

/// `control.house`: the loads of the house control steers beside the cars — an SG-Ready
/// heat pump on two relays, plain relays on solar surplus with timers, French tariff
/// rules, and who gets the sun first. Every key is documented in docs/house.md.
public struct HouseConfig: Sendable, Equatable, Decodable {
    public var heatPump: HeatPumpConfig?
    public var relays: [SurplusRelayConfig]
    /// Who gets the sun first, first to last; the reverse order gives way first when
    /// power is short. Entries: the heat pump's id, relay ids, `cars`, `battery`.
    /// Loads left out follow in the default order (heat pump, relays, cars, battery).
    public var priorities: [String]
    public var tariff: TariffConfig?
    public var battery: BatteryConfig?
    public var exportLimit: ExportLimitConfig?

    public init(heatPump: HeatPumpConfig? = nil, relays: [SurplusRelayConfig] = [], priorities: [String] = [],
                tariff: TariffConfig? = nil, battery: BatteryConfig? = nil, exportLimit: ExportLimitConfig? = nil) {
        self.exportLimit = exportLimit
        self.heatPump = heatPump
        self.relays = relays
        self.priorities = priorities
        self.tariff = tariff
        self.battery = battery
    }

    enum CodingKeys: String, CodingKey { case heatPump, relays, priorities, tariff, battery, exportLimit }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            heatPump: try c.decodeIfPresent(HeatPumpConfig.self, forKey: .heatPump),
            relays: try c.decodeIfPresent([SurplusRelayConfig].self, forKey: .relays) ?? [],
            priorities: try c.decodeIfPresent([String].self, forKey: .priorities) ?? [],
            tariff: try c.decodeIfPresent(TariffConfig.self, forKey: .tariff),
            battery: try c.decodeIfPresent(BatteryConfig.self, forKey: .battery),
            exportLimit: try c.decodeIfPresent(ExportLimitConfig.self, forKey: .exportLimit))
    }

    /// The word for every charge point in `priorities`.
    public static let carsEntry = "cars"
    /// The word for the house battery in `priorities`.
    public static let batteryEntry = "battery"

    /// The full order, configured entries first, then the rest in the default order.
    public var resolvedPriorities: [String] {
        var order = priorities
        var defaults: [String] = []
        if let hp = heatPump { defaults.append(hp.id) }
        defaults += relays.map(\.id)
        defaults += [Self.carsEntry, Self.batteryEntry]
        for entry in defaults where !order.contains(entry) { order.append(entry) }
        return order
    }
}

/// Where a house load hangs and which grid phases it loads.
public struct LoadWiring: Sendable, Equatable {
    /// Panel id in `control.site`; nil = the main connection.
    public var panel: String?
    /// 1 or 3.
    public var phases: Int
    /// For a single-phase load: the grid phase, 1…3.
    public var phase: Int

    public init(panel: String? = nil, phases: Int = 1, phase: Int = 1) {
        self.panel = panel
        self.phases = phases
        self.phase = phase
    }

    /// 1 on every grid phase the load draws from.
    public var mask: PhaseCurrents {
        if phases >= 3 { return PhaseCurrents(repeating: 1) }
        var m = PhaseCurrents.zero
        m[max(0, min(2, phase - 1))] = 1
        return m
    }

    /// Per-phase current of `watts` at `voltage`.
    public func currents(watts: Double, voltage: Double) -> PhaseCurrents {
        mask * (watts / (voltage * Double(phases >= 3 ? 3 : 1)))
    }
}

/// An SG-Ready heat pump on two relays (relay 1 = SG0, relay 2 = SG1).
public struct HeatPumpConfig: Sendable, Equatable, Decodable {
    public var id: String
    /// A model from the compatibility table (`phasor heat-pumps`); it supplies the regimes
    /// the model has and the terminals, when `regimes` is not given.
    public var model: String?
    /// Relay ids (the gateway's `modbus.relays`): the first drives SG0, the second SG1.
    public var relays: [String]
    public var wiring: LoadWiring
    /// The regimes this heat pump has; `normal` always.
    public var regimes: [HeatPumpRegime]?
    /// Electrical power of each regime, W (`off` is 0 unless given).
    public var powerW: [HeatPumpRegime: Double]
    /// Export (W) that asks for Comfort, and the higher one that asks for Boost. The export
    /// is counted as if the heat pump ran in Normal (its own extra power added back).
    public var comfortExportW: Double
    public var boostExportW: Double
    /// A regime is left downwards only when the export falls this far below its threshold, W.
    public var hysteresisW: Double
    /// Minimum time in a regime entered by stepping up, s; nil = the preset's.
    public var dwellSeconds: [HeatPumpRegime: Double]?
    /// Minimum time in a regime entered by stepping down, s.
    public var holdDownSeconds: Double
    /// The export must stay below a regime's threshold (less the hysteresis) this long
    /// before the heat pump steps down for it, s: a kettle or a passing cloud does not cost
    /// a step down and, after the hold, a step up with its dwell.
    public var stepDownDelaySeconds: Double
    /// Off lasts at most this long, s…
    public var maxOffSeconds: Double
    /// …then Normal for at least this long, s.
    public var normalAfterOffSeconds: Double

    public init(id: String = "heat_pump", model: String? = nil, relays: [String], wiring: LoadWiring = LoadWiring(phases: 3),
                regimes: [HeatPumpRegime]? = nil, powerW: [HeatPumpRegime: Double], comfortExportW: Double = 1000,
                boostExportW: Double = 2500, hysteresisW: Double = 300, dwellSeconds: [HeatPumpRegime: Double]? = nil,
                holdDownSeconds: Double = 60, maxOffSeconds: Double = 7200, normalAfterOffSeconds: Double = 3600,
                stepDownDelaySeconds: Double = 120) {
        self.id = id
        self.model = model
        self.relays = relays
        self.wiring = wiring
        self.regimes = regimes
        self.powerW = powerW
        self.comfortExportW = comfortExportW
        self.boostExportW = boostExportW
        self.hysteresisW = hysteresisW
        self.dwellSeconds = dwellSeconds
        self.holdDownSeconds = holdDownSeconds
        self.stepDownDelaySeconds = stepDownDelaySeconds
        self.maxOffSeconds = maxOffSeconds
        self.normalAfterOffSeconds = normalAfterOffSeconds
    }

    enum CodingKeys: String, CodingKey {
        case id, model, relays, panel, phases, phase, regimes, powerW = "powerW", comfortExportW = "comfortExportW"
        case boostExportW = "boostExportW", hysteresisW = "hysteresisW", dwellSeconds, holdDownSeconds, maxOffSeconds
        case normalAfterOffSeconds, stepDownDelaySeconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HeatPumpConfig(relays: [], powerW: [:])
        self.init(
            id: try c.decodeIfPresent(String.self, forKey: .id) ?? d.id,
            model: try c.decodeIfPresent(String.self, forKey: .model),
            relays: try c.decode([String].self, forKey: .relays),
            wiring: LoadWiring(
                panel: try c.decodeIfPresent(String.self, forKey: .panel),
                phases: try c.decodeIfPresent(Int.self, forKey: .phases) ?? 3,
                phase: try c.decodeIfPresent(Int.self, forKey: .phase) ?? 1),
            regimes: try c.decodeIfPresent([HeatPumpRegime].self, forKey: .regimes),
            powerW: try Self.regimeTable(c, .powerW) ?? [:],
            comfortExportW: try c.decodeIfPresent(Double.self, forKey: .comfortExportW) ?? d.comfortExportW,
            boostExportW: try c.decodeIfPresent(Double.self, forKey: .boostExportW) ?? d.boostExportW,
            hysteresisW: try c.decodeIfPresent(Double.self, forKey: .hysteresisW) ?? d.hysteresisW,
            dwellSeconds: try Self.regimeTable(c, .dwellSeconds),
            holdDownSeconds: try c.decodeIfPresent(Double.self, forKey: .holdDownSeconds) ?? d.holdDownSeconds,
            maxOffSeconds: try c.decodeIfPresent(Double.self, forKey: .maxOffSeconds) ?? d.maxOffSeconds,
            normalAfterOffSeconds: try c.decodeIfPresent(Double.self, forKey: .normalAfterOffSeconds)
                ?? d.normalAfterOffSeconds,
            stepDownDelaySeconds: try c.decodeIfPresent(Double.self, forKey: .stepDownDelaySeconds) ?? d.stepDownDelaySeconds)
    }

    /// `{normal: 1500, comfort: 2500}`: keys are regime names.
    private static func regimeTable(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws
        -> [HeatPumpRegime: Double]?
    {
        guard let raw = try c.decodeIfPresent(RegimeTable.self, forKey: key) else { return nil }
        return raw.values
    }

    /// The regimes in use, lowest first: the configured ones, else the model's, else all four.
    public func availableRegimes(model: HeatPumpModel? = nil) -> [HeatPumpRegime] {
        let set = Set(regimes ?? model?.regimes ?? HeatPumpRegime.allCases).union([.normal])
        return HeatPumpRegime.allCases.filter(set.contains)
    }

    /// Power of a regime, W; a regime without a figure draws what the next lower one does.
    public func power(_ regime: HeatPumpRegime) -> Double {
        if let p = powerW[regime] { return p }
        guard let lower = HeatPumpRegime(rawValue: regime.rank - 1) else { return 0 }
        return power(lower)
    }

    /// Dwell times after stepping up, by preset, overridden per regime by `dwell_seconds`.
    public func dwell(_ regime: HeatPumpRegime, preset: Preset) -> Double {
        if let d = dwellSeconds?[regime] { return d }
        return HeatPumpTiming.presetDwell(regime, preset: preset)
    }
}

/// A map keyed by regime names (`normal: 1500`), decoded strictly.
private struct RegimeTable: Decodable {
    var values: [HeatPumpRegime: Double] = [:]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for key in c.allKeys {
            guard let regime = HeatPumpRegime(name: key.stringValue) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: "'\(key.stringValue)' is not a regime: use off, normal, comfort or boost")
            }
            values[regime] = try c.decode(Double.self, forKey: key)
        }
    }
}

/// What a plain relay feeds (informative: the logic is the same for all).
public enum RelayRole: String, Sendable, Equatable, Codable, CaseIterable {
    case boiler, storageHeater = "storage_heater", pvContact = "pv_contact", socket
}

/// A plain relay switched on solar surplus (boiler, storage heater, the PV contact of a
/// heat-pump water heater, a socket), with optional timers that force it on.
public struct SurplusRelayConfig: Sendable, Equatable, Decodable {
    /// The relay's id in the gateway's `modbus.relays`.
    public var id: String
    public var role: RelayRole
    /// A water heater from the compatibility table, for its PV-contact terminal.
    public var model: String?
    /// What the load draws when on, W.
    public var powerW: Double
    public var wiring: LoadWiring
    /// Switch on solar surplus (false: timers and tariff rules only).
    public var automatic: Bool
    /// Surplus (export as if the relay were off) that switches it on, W; default its power.
    public var onSurplusW: Double?
    /// It goes off when the surplus falls this far below `on_surplus_w`, W.
    public var hysteresisW: Double
    public var minOnSeconds: Double
    public var minOffSeconds: Double
    /// Windows that force it on, an OR beside the automatic logic.
    public var timers: [TimerWindow]

    public init(id: String, role: RelayRole = .boiler, model: String? = nil, powerW: Double, wiring: LoadWiring = LoadWiring(),
                automatic: Bool = true, onSurplusW: Double? = nil, hysteresisW: Double = 300, minOnSeconds: Double = 300,
                minOffSeconds: Double = 300, timers: [TimerWindow] = []) {
        self.id = id
        self.role = role
        self.model = model
        self.powerW = powerW
        self.wiring = wiring
        self.automatic = automatic
        self.onSurplusW = onSurplusW
        self.hysteresisW = hysteresisW
        self.minOnSeconds = minOnSeconds
        self.minOffSeconds = minOffSeconds
        self.timers = timers
    }

    public var onThresholdW: Double { onSurplusW ?? powerW }
    public var offThresholdW: Double { onThresholdW - hysteresisW }

    enum CodingKeys: String, CodingKey {
        case id, role, model, powerW = "powerW", panel, phases, phase, automatic, onSurplusW = "onSurplusW"
        case hysteresisW = "hysteresisW", minOnSeconds, minOffSeconds, timers
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SurplusRelayConfig(id: "", powerW: 0)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            role: try c.decodeIfPresent(RelayRole.self, forKey: .role) ?? d.role,
            model: try c.decodeIfPresent(String.self, forKey: .model),
            powerW: try c.decode(Double.self, forKey: .powerW),
            wiring: LoadWiring(
                panel: try c.decodeIfPresent(String.self, forKey: .panel),
                phases: try c.decodeIfPresent(Int.self, forKey: .phases) ?? 1,
                phase: try c.decodeIfPresent(Int.self, forKey: .phase) ?? 1),
            automatic: try c.decodeIfPresent(Bool.self, forKey: .automatic) ?? d.automatic,
            onSurplusW: try c.decodeIfPresent(Double.self, forKey: .onSurplusW),
            hysteresisW: try c.decodeIfPresent(Double.self, forKey: .hysteresisW) ?? d.hysteresisW,
            minOnSeconds: try c.decodeIfPresent(Double.self, forKey: .minOnSeconds) ?? d.minOnSeconds,
            minOffSeconds: try c.decodeIfPresent(Double.self, forKey: .minOffSeconds) ?? d.minOffSeconds,
            timers: try c.decodeIfPresent([TimerWindow].self, forKey: .timers) ?? [])
    }
}

/// `tariff:` — the meter whose readings carry the French tariff signals, and the rules.
public struct TariffConfig: Sendable, Equatable, Decodable {
    /// Device id of the TIC meter; nil = the main connection's meter.
    public var meter: String?
    public var rules: [TariffRule]

    public init(meter: String? = nil, rules: [TariffRule] = []) {
        self.meter = meter
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey { case meter, rules }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(meter: try c.decodeIfPresent(String.self, forKey: .meter),
                  rules: try c.decodeIfPresent([TariffRule].self, forKey: .rules) ?? [])
    }
}

/// `battery:` — the house battery: read (kept out of the cars, its charge and discharge in
/// the surplus) and, with `max_charge_w` / `max_discharge_w`, steered through the charge and
/// discharge limits of its inverter (`BatteryPlanner`).
public struct BatteryConfig: Sendable, Equatable, Decodable {
    /// Device id whose readings carry `battery_power` (+ = discharge) and `battery_soc`.
    public var meter: String
    /// Cars may charge from the battery's discharge (default false: control sees the main
    /// meter as if the battery were not discharging, `BatteryView`).
    public var toCars: Bool
    /// 1 or 3: the phases the battery inverter feeds (for the currents control adds back).
    public var phases: Int
    /// The device that takes the battery's limits (`inverter/<id>/setpoint`); default `meter`.
    public var device: String?
    /// The battery's charge and discharge power at most, W. Given both: control steers it.
    public var maxChargeW: Double?
    public var maxDischargeW: Double?
    /// Never discharged below this state of charge, %.
    public var minSoC: Double
    /// Below this state of charge the battery only holds the quarter-hour peak (no
    /// self-consumption), %; default `min_soc` (no reserve).
    public var reserveSoC: Double?
    /// Not charged above this state of charge, %.
    public var maxSoC: Double
    /// Discharge to keep the quarter-hour average under the budget's target.
    public var peakShaving: Bool

    public init(meter: String, toCars: Bool = false, phases: Int = 3, device: String? = nil, maxChargeW: Double? = nil,
                maxDischargeW: Double? = nil, minSoC: Double = 10, reserveSoC: Double? = nil, maxSoC: Double = 100,
                peakShaving: Bool = true) {
        self.meter = meter
        self.toCars = toCars
        self.phases = phases
        self.device = device
        self.maxChargeW = maxChargeW
        self.maxDischargeW = maxDischargeW
        self.minSoC = minSoC
        self.reserveSoC = reserveSoC
        self.maxSoC = maxSoC
        self.peakShaving = peakShaving
    }

    /// Control writes the battery's limits (both maxima configured).
    public var steered: Bool { maxChargeW != nil && maxDischargeW != nil }
    /// Where the limits go.
    public var setpointDevice: String { device ?? meter }
    public var resolvedReserveSoC: Double { max(reserveSoC ?? minSoC, minSoC) }

    enum CodingKeys: String, CodingKey {
        case meter, toCars, phases, device, maxChargeW, maxDischargeW, minSoc, reserveSoc, maxSoc, peakShaving
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(meter: try c.decode(String.self, forKey: .meter),
                  toCars: try c.decodeIfPresent(Bool.self, forKey: .toCars) ?? false,
                  phases: try c.decodeIfPresent(Int.self, forKey: .phases) ?? 3,
                  device: try c.decodeIfPresent(String.self, forKey: .device),
                  maxChargeW: try c.decodeIfPresent(Double.self, forKey: .maxChargeW),
                  maxDischargeW: try c.decodeIfPresent(Double.self, forKey: .maxDischargeW),
                  minSoC: try c.decodeIfPresent(Double.self, forKey: .minSoc) ?? 10,
                  reserveSoC: try c.decodeIfPresent(Double.self, forKey: .reserveSoc),
                  maxSoC: try c.decodeIfPresent(Double.self, forKey: .maxSoc) ?? 100,
                  peakShaving: try c.decodeIfPresent(Bool.self, forKey: .peakShaving) ?? true)
    }
}

/// `export_limit:` — the grid operator's rule on export (anti-backflow): the inverter's
/// active-power limit is lowered when the export would pass `max_export_w`
/// (`ExportLimiter`).
public struct ExportLimitConfig: Sendable, Equatable, Decodable {
    /// The inverter that takes the active-power limit (`inverter/<id>/setpoint`).
    public var inverter: String
    /// Export at the main connection at most, W (0 = zero export).
    public var maxExportW: Double
    /// The inverter's AC power at most, W: a limit at or above it is no limit.
    public var ratedPowerW: Double
    /// Control aims this far under `max_export_w`, W.
    public var marginW: Double
    /// After a new limit, the limit is raised again only after this long (the inverter's
    /// response and a fresh meter reading), s. Lowering never waits.
    public var settleSeconds: Double

    public init(inverter: String, maxExportW: Double, ratedPowerW: Double, marginW: Double = 100, settleSeconds: Double = 5) {
        self.inverter = inverter
        self.maxExportW = maxExportW
        self.ratedPowerW = ratedPowerW
        self.marginW = marginW
        self.settleSeconds = settleSeconds
    }

    enum CodingKeys: String, CodingKey { case inverter, maxExportW, ratedPowerW, marginW, settleSeconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(inverter: try c.decode(String.self, forKey: .inverter),
                  maxExportW: try c.decode(Double.self, forKey: .maxExportW),
                  ratedPowerW: try c.decode(Double.self, forKey: .ratedPowerW),
                  marginW: try c.decodeIfPresent(Double.self, forKey: .marginW) ?? 100,
                  settleSeconds: try c.decodeIfPresent(Double.self, forKey: .settleSeconds) ?? 5)
    }
}
