import Foundation

/// Currents per grid phase (L1 = 0, L2 = 1, L3 = 2) or per charger terminal, A.
public typealias PhaseAmperes = SIMD3<Double>

/// How a charger's terminals 1-2-3 are wired to the grid: terminal `t` is on grid phase `(t + shift) % 3`.
public struct TerminalWiring: Sendable, Hashable {
    /// 0 = L1L2L3, 1 = L2L3L1, 2 = L3L1L2.
    public var shift: Int
    public init(shift: Int) { self.shift = ((shift % 3) + 3) % 3 }
    public static let l1l2l3 = TerminalWiring(shift: 0)
    public static let l2l3l1 = TerminalWiring(shift: 1)
    public static let l3l1l2 = TerminalWiring(shift: 2)

    public func gridPhase(ofTerminal t: Int) -> Int { (t + shift) % 3 }
    public func toGrid(_ terminals: PhaseAmperes) -> PhaseAmperes {
        var grid = PhaseAmperes.zero
        for t in 0..<3 { grid[gridPhase(ofTerminal: t)] = terminals[t] }
        return grid
    }
}

/// A breaker / panel of the site tree. Panels are listed parents first.
public struct PlantPanel: Sendable, Equatable {
    public var id: String
    /// Index of the panel it hangs from; `nil` for the main connection.
    public var parent: Int?
    /// Breaker rating per grid phase, A.
    public var limit: PhaseAmperes
    public init(id: String, parent: Int?, limit: PhaseAmperes) {
        self.id = id
        self.parent = parent
        self.limit = limit
    }
}

/// A charger (charge point): where it hangs, its wiring, and its timing.
public struct ChargerSpec: Sendable, Equatable {
    /// The device id its reports carry.
    public var device: String
    public var panel: Int
    public var wiring: TerminalWiring
    /// Phases the charger is wired for (1–3).
    public var phases: Int
    /// A written setpoint takes effect this long after it was written, s (Modbus write, charger firmware).
    public var writeLatency: TimeInterval
    /// Reports (what the car draws at the sampling instant, and the status) every this many s…
    public var reportPeriod: TimeInterval
    /// …at these seconds past each multiple of the period (the phase offset to the meters).
    public var reportOffset: TimeInterval
    /// A report is delivered this long after its sampling instant, s.
    public var reportDelay: TimeInterval
    /// The current the charger applies on its own when no setpoint came for `safeAfter` s.
    public var safeCurrent: Double
    /// `nil`: the charger keeps its last setpoint forever.
    public var safeAfter: TimeInterval?

    public init(
        device: String, panel: Int, wiring: TerminalWiring = .l1l2l3, phases: Int = 3, writeLatency: TimeInterval = 0.1,
        reportPeriod: TimeInterval = 1, reportOffset: TimeInterval = 0.5, reportDelay: TimeInterval = 0,
        safeCurrent: Double = 6, safeAfter: TimeInterval? = nil
    ) {
        self.device = device
        self.panel = panel
        self.wiring = wiring
        self.phases = phases
        self.writeLatency = writeLatency
        self.reportPeriod = reportPeriod
        self.reportOffset = reportOffset
        self.reportDelay = reportDelay
        self.safeCurrent = safeCurrent
        self.safeAfter = safeAfter
    }
}

/// A car: how it follows the pilot (the charger's current limit) and how much it wants.
public struct CarSpec: Sendable, Equatable {
    /// Phases the car's on-board charger uses (1–3).
    public var phases: Int
    /// Below this pilot the car pauses, A (IEC 61851-1: 6 A).
    public var minCurrent: Double
    /// The car's own maximum per phase, A.
    public var maxCurrent: Double
    /// A lower pilot is followed this long after it was applied, s (IEC 61851-1: at most 5 s).
    public var lowerDelay: TimeInterval
    /// A higher pilot starts being followed this long after it was applied, s…
    public var riseDelay: TimeInterval
    /// …then the draw ramps up at this rate, A/s.
    public var rampRate: Double
    /// Energy the car still takes, Wh; `nil` = never full.
    public var energyWantedWh: Double?
    /// The last this many Wh taper linearly from the maximum down to the minimum (battery nearly full); 0 = none.
    public var taperWh: Double

    public init(
        phases: Int = 3, minCurrent: Double = 6, maxCurrent: Double = 16, lowerDelay: TimeInterval = 1,
        riseDelay: TimeInterval = 1, rampRate: Double = 8, energyWantedWh: Double? = nil, taperWh: Double = 0
    ) {
        self.phases = phases
        self.minCurrent = minCurrent
        self.maxCurrent = maxCurrent
        self.lowerDelay = lowerDelay
        self.riseDelay = riseDelay
        self.rampRate = rampRate
        self.energyWantedWh = energyWantedWh
        self.taperWh = taperWh
    }

    /// IEC 61851-1: an EV must follow a lower limit within 5 s.
    public static let maxLowerDelay: TimeInterval = 5
}

/// A real meter on a panel: what hangs below it, sampled at its own instants.
public struct MeterSpec: Sendable, Equatable {
    public var device: String
    public var panel: Int
    /// A reading every this many s (DSMR 5 / e-MUCS 1 s, DSMR 4 10 s, a Modbus meter its poll interval)…
    public var period: TimeInterval
    /// …sampled at these seconds past each multiple of the period.
    public var offset: TimeInterval
    /// Delivered this long after the sampling instant, s (a telegram's transfer, the gateway).
    public var delay: TimeInterval
    /// Currents are reported in steps of this, A (DSMR: whole amperes; Modbus meters: 0.01 A).
    public var currentResolution: Double
    /// Sends 1-0:1.4.0, the quarter's import energy so far as an average over the quarter.
    public var quarterAverage: Bool

    public init(
        device: String, panel: Int, period: TimeInterval = 1, offset: TimeInterval = 0, delay: TimeInterval = 0,
        currentResolution: Double = 0.01, quarterAverage: Bool = false
    ) {
        self.device = device
        self.panel = panel
        self.period = period
        self.offset = offset
        self.delay = delay
        self.currentResolution = currentResolution
        self.quarterAverage = quarterAverage
    }

    /// A DSMR 5 / e-MUCS P1 port: a telegram every second, whole amperes, 1-0:1.4.0.
    public static func dsmr5(device: String, panel: Int, offset: TimeInterval = 0) -> MeterSpec {
        MeterSpec(device: device, panel: panel, period: 1, offset: offset, delay: 0.1, currentResolution: 1, quarterAverage: true)
    }
    /// DSMR 4: a telegram every 10 s, whole amperes.
    public static func dsmr4(device: String, panel: Int, offset: TimeInterval = 0) -> MeterSpec {
        MeterSpec(device: device, panel: panel, period: 10, offset: offset, delay: 0.1, currentResolution: 1)
    }
    /// A Modbus meter polled every `every` s, 0.01 A.
    public static func modbus(device: String, panel: Int, every: TimeInterval, offset: TimeInterval = 0) -> MeterSpec {
        MeterSpec(device: device, panel: panel, period: every, offset: offset, delay: 0.02, currentResolution: 0.01)
    }
}

/// Load nobody steers hanging directly at one panel (house loads, PV as negative current).
public struct LoadSpec: Sendable {
    public var panel: Int
    /// Constant part per grid phase, A.
    public var base: PhaseAmperes
    /// Uniform noise of ± this per phase, A, drawn anew every `noiseHold` s.
    public var noise: Double
    public var noiseHold: TimeInterval
    /// A time-varying part per grid phase, A (a daily profile, PV); evaluated at every plant step.
    public var profile: (@Sendable (Date) -> PhaseAmperes)?

    public init(
        panel: Int, base: PhaseAmperes = .zero, noise: Double = 0, noiseHold: TimeInterval = 1,
        profile: (@Sendable (Date) -> PhaseAmperes)? = nil
    ) {
        self.panel = panel
        self.base = base
        self.noise = noise
        self.noiseHold = noiseHold
        self.profile = profile
    }
}

/// The whole plant.
public struct PlantConfig: Sendable {
    public var panels: [PlantPanel]
    public var chargers: [ChargerSpec]
    public var meters: [MeterSpec]
    public var loads: [LoadSpec]
    public var voltage: Double
    /// Longest integration step, s: breaker currents are evaluated at least this often.
    public var step: TimeInterval
    /// An overload counts as caused by uncontrolled load when that load rose at least
    /// by the excess within this many seconds before (one meter period + the EV response).
    public var explainWindow: TimeInterval

    public init(
        panels: [PlantPanel], chargers: [ChargerSpec] = [], meters: [MeterSpec] = [], loads: [LoadSpec] = [],
        voltage: Double = 230, step: TimeInterval = 0.05, explainWindow: TimeInterval = 6
    ) {
        self.panels = panels
        self.chargers = chargers
        self.meters = meters
        self.loads = loads
        self.voltage = voltage
        self.step = step
        self.explainWindow = explainWindow
    }
}
