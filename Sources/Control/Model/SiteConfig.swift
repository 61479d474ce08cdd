import PhasorCore

/// The control part of the site configuration file, as the installer writes it.
///
/// Decoding applies the documented defaults and then validates the whole tree
/// (see `SiteConfigValidation`), so a bad file fails at load time with the
/// file, line and field of the first problem instead of misbehaving at run time.
public struct SiteConfig: Sendable, Equatable, Decodable {
    /// Which product's defaults apply (start buffer, dwell times).
    public var preset: Preset
    /// Nominal phase voltage used to convert currents to power.
    public var voltage: Double
    public var budget: BudgetConfig
    public var timing: TimingConfig
    /// Level 1: the main connection, with the panels and charge points below it.
    public var site: PanelConfig
    /// Where the control service keeps its state between runs (quarter energy, month
    /// peak, operator settings); `nil` = the service's default. Not used by the library.
    public var stateDir: String?
    /// The house loads beside the cars (heat pump, relays, tariff rules): `HouseConfig`.
    public var house: HouseConfig?

    public init(
        preset: Preset = .residential, voltage: Double = 230, budget: BudgetConfig = BudgetConfig(),
        timing: TimingConfig = TimingConfig(), site: PanelConfig, stateDir: String? = nil, house: HouseConfig? = nil
    ) {
        self.preset = preset
        self.voltage = voltage
        self.budget = budget
        self.timing = timing
        self.site = site
        self.stateDir = stateDir
        self.house = house
    }

    enum CodingKeys: String, CodingKey { case preset, voltage, budget, timing, site, stateDir, house }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            preset: try c.decodeIfPresent(Preset.self, forKey: .preset) ?? .residential,
            voltage: try c.decodeIfPresent(Double.self, forKey: .voltage) ?? 230,
            budget: try c.decodeIfPresent(BudgetConfig.self, forKey: .budget) ?? BudgetConfig(),
            timing: try c.decodeIfPresent(TimingConfig.self, forKey: .timing) ?? TimingConfig(),
            site: try c.decode(PanelConfig.self, forKey: .site),
            stateDir: try c.decodeIfPresent(String.self, forKey: .stateDir),
            house: try c.decodeIfPresent(HouseConfig.self, forKey: .house))
        if let problem = SiteConfigValidation.firstProblem(in: self) {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath + problem.codingPath, debugDescription: problem.message))
        }
    }
}

/// The datasheet defaults differ between the residential module and the charging hub.
public enum Preset: String, Sendable, Equatable, Codable, CaseIterable {
    /// Residential module: 2 A start buffer per phase above the car's minimum.
    case residential
    /// Charging hub: no start buffer.
    case hub

    var defaultStartBuffer: Double { self == .residential ? 2 : 0 }
}

/// Quarter-hour (capacity tariff) budget settings.
public struct BudgetConfig: Sendable, Equatable, Decodable {
    /// The slider's accepted range, kW, in the site file and on `control/slider/set`:
    /// the Belgian capacity tariff bills at least 2.5 kW, so a lower target saves nothing.
    public static let sliderRangeKW: ClosedRange<Double> = 2.5...1000
    /// The energy slider: maximum quarter-hour average import, kW.
    public var sliderKW: Double
    /// Kept free below the target, kW: meters, chargers and cars react late.
    public var marginKW: Double
    /// The grid operator bills at least this peak, so aiming lower only wastes charging power.
    public var billingFloorKW: Double
    /// Aim at the month's peak so far when it is above the slider (that peak is paid already).
    public var followMonthPeak: Bool
    /// Time constant of the household-load estimate that decides whether a running car
    /// must stop for the budget, s. A kettle (2–3 min) moves it only part of the way;
    /// its energy is counted in full all the same.
    public var loadSmoothingSeconds: Double
    /// How long after a quarter boundary a meter's 1-0:1.4.0 equal to the previous quarter's
    /// last value is taken for the known repeat and ignored, s.
    public var quarterAverageRepeatSeconds: Double
    /// Calendar for month boundaries (the tariff's months are local months).
    public var timeZone: String

    public init(
        sliderKW: Double = 5, marginKW: Double = 0.2, billingFloorKW: Double = 2.5, followMonthPeak: Bool = true,
        loadSmoothingSeconds: Double = 120, quarterAverageRepeatSeconds: Double = 20,
        timeZone: String = "Europe/Brussels"
    ) {
        self.sliderKW = sliderKW
        self.marginKW = marginKW
        self.billingFloorKW = billingFloorKW
        self.followMonthPeak = followMonthPeak
        self.loadSmoothingSeconds = loadSmoothingSeconds
        self.quarterAverageRepeatSeconds = quarterAverageRepeatSeconds
        self.timeZone = timeZone
    }

    enum CodingKeys: String, CodingKey {
        // The loader maps `slider_kw` to `sliderKw`.
        case sliderKW = "sliderKw", marginKW = "marginKw", billingFloorKW = "billingFloorKw"
        case followMonthPeak, loadSmoothingSeconds, quarterAverageRepeatSeconds, timeZone
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BudgetConfig()
        self.init(
            sliderKW: try c.decodeIfPresent(Double.self, forKey: .sliderKW) ?? d.sliderKW,
            marginKW: try c.decodeIfPresent(Double.self, forKey: .marginKW) ?? d.marginKW,
            billingFloorKW: try c.decodeIfPresent(Double.self, forKey: .billingFloorKW) ?? d.billingFloorKW,
            followMonthPeak: try c.decodeIfPresent(Bool.self, forKey: .followMonthPeak) ?? d.followMonthPeak,
            loadSmoothingSeconds: try c.decodeIfPresent(Double.self, forKey: .loadSmoothingSeconds)
                ?? d.loadSmoothingSeconds,
            quarterAverageRepeatSeconds: try c.decodeIfPresent(Double.self, forKey: .quarterAverageRepeatSeconds)
                ?? d.quarterAverageRepeatSeconds,
            timeZone: try c.decodeIfPresent(String.self, forKey: .timeZone) ?? d.timeZone)
    }
}

/// Anti-flap and sequencing timing: how long a car must run or pause before its
/// state may change again, and how control waits for cars to follow.
public struct TimingConfig: Sendable, Equatable, Decodable {
    /// A started car is not stopped for budget or solar reasons before this, s (limits still stop it).
    public var minRunSeconds: Double
    /// A paused car is not restarted before this, s.
    public var minPauseSeconds: Double
    /// A current increase smaller than this is not worth a write to the charger, A.
    public var hysteresisA: Double
    /// Minimum time between two 1p/3p switches of one charge point, s.
    public var phaseSwitchSeconds: Double
    /// How long a car may take to follow a new limit, s. IEC 61851-1 gives an EV 5 s to
    /// follow a lower one. Until a charger report shows that a car followed (or this time
    /// has passed), control counts it at the higher of its old and new limit: another car
    /// is raised only into room that is free even if the lowered car has not followed yet
    /// ("break before make"), and no increase is decided on a view taken mid-change.
    public var evResponseSeconds: Double
    /// Minimum time between two increases of one car, s. Decreases are never delayed.
    public var increaseIntervalSeconds: Double
    /// Kept free below every breaker limit when raising cars, A per phase. A breaker
    /// limit is only enforced (cars lowered) when it is exceeded, so measurement noise
    /// inside this band moves no setpoint.
    public var breakerMarginA: Double
    /// How long a recent settled view of the house load is remembered, s: an increase
    /// uses the highest house load seen over this window, so a car's own drop seen by
    /// the meter before its charger's report is not handed to the others.
    public var viewWindowSeconds: Double
    /// When not every waiting car's minimum fits, a running car that has charged this
    /// long gives way to one that has waited at least its minimum pause, s (0: never).
    public var turnSeconds: Double
    /// A running car whose charger reports it drawing nothing (under 1 A) for this long is
    /// "not drawing" (full, or waiting on its own timer), s: it is kept at its minimum, paused
    /// when that minimum is room another car needs, and offered current again when its
    /// minimum fits beside everyone or after `turnSeconds`. Chargers that do not measure
    /// currents are never judged so.
    public var idleSeconds: Double

    public init(
        minRunSeconds: Double = 300, minPauseSeconds: Double = 120, hysteresisA: Double = 1,
        phaseSwitchSeconds: Double = 600, evResponseSeconds: Double = 5, increaseIntervalSeconds: Double = 10,
        breakerMarginA: Double = 0.5, viewWindowSeconds: Double = 15, turnSeconds: Double = 1800,
        idleSeconds: Double = 30
    ) {
        self.minRunSeconds = minRunSeconds
        self.minPauseSeconds = minPauseSeconds
        self.hysteresisA = hysteresisA
        self.phaseSwitchSeconds = phaseSwitchSeconds
        self.evResponseSeconds = evResponseSeconds
        self.increaseIntervalSeconds = increaseIntervalSeconds
        self.breakerMarginA = breakerMarginA
        self.viewWindowSeconds = viewWindowSeconds
        self.turnSeconds = turnSeconds
        self.idleSeconds = idleSeconds
    }

    enum CodingKeys: String, CodingKey {
        case minRunSeconds, minPauseSeconds, hysteresisA = "hysteresisA", phaseSwitchSeconds, evResponseSeconds,
            increaseIntervalSeconds, breakerMarginA = "breakerMarginA", viewWindowSeconds, turnSeconds, idleSeconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TimingConfig()
        func value(_ key: CodingKeys, _ fallback: Double) throws -> Double {
            try c.decodeIfPresent(Double.self, forKey: key) ?? fallback
        }
        self.init(
            minRunSeconds: try value(.minRunSeconds, d.minRunSeconds),
            minPauseSeconds: try value(.minPauseSeconds, d.minPauseSeconds),
            hysteresisA: try value(.hysteresisA, d.hysteresisA),
            phaseSwitchSeconds: try value(.phaseSwitchSeconds, d.phaseSwitchSeconds),
            evResponseSeconds: try value(.evResponseSeconds, d.evResponseSeconds),
            increaseIntervalSeconds: try value(.increaseIntervalSeconds, d.increaseIntervalSeconds),
            breakerMarginA: try value(.breakerMarginA, d.breakerMarginA),
            viewWindowSeconds: try value(.viewWindowSeconds, d.viewWindowSeconds),
            turnSeconds: try value(.turnSeconds, d.turnSeconds),
            idleSeconds: try value(.idleSeconds, d.idleSeconds))
    }
}

/// A per-phase current limit: one number for all three phases, or a list of three.
public struct PhaseLimit: Sendable, Equatable, Decodable {
    public var amperes: PhaseCurrents
    public init(_ all: Double) { amperes = PhaseCurrents(repeating: all) }
    public init(_ l1: Double, _ l2: Double, _ l3: Double) { amperes = PhaseCurrents(l1, l2, l3) }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer().decode(Double.self) {
            self.init(single)
            return
        }
        var list = try decoder.unkeyedContainer()
        guard list.count == 3 else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "give one number or a list of three (L1, L2, L3)"))
        }
        self.init(try list.decode(Double.self), try list.decode(Double.self), try list.decode(Double.self))
    }
}

/// Where a panel's load is measured.
public enum MeterSource: Sendable, Equatable, Decodable {
    /// A real meter: the device id whose readings carry `current_l1`…`current_l3` (and `power`).
    case device(String)
    /// The sum of the charge points below; only valid when nothing else hangs there.
    case virtual

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        self = name == "virtual" ? .virtual : .device(name)
    }
}

/// A panel (levels 1–3): its limits, its meter, and what hangs below it.
public struct PanelConfig: Sendable, Equatable, Decodable {
    public var id: String
    /// Breaker rating per phase, A.
    public var currentLimit: PhaseLimit
    /// Optional total power limit, kW (e.g. a contract or transformer limit).
    public var powerLimitKW: Double?
    public var meter: MeterSource
    /// A reading older than this makes the subtree fall back to safe currents, s.
    /// 30 s suits DSMR 4 (a telegram every 10 s); DSMR 5 sends every second.
    public var meterTimeoutSeconds: Double
    /// Sub-panels hanging in parallel under this one.
    public var panels: [PanelConfig]
    public var chargePoints: [ChargePointConfig]

    public init(
        id: String, currentLimit: PhaseLimit, powerLimitKW: Double? = nil, meter: MeterSource,
        meterTimeoutSeconds: Double = 30, panels: [PanelConfig] = [], chargePoints: [ChargePointConfig] = []
    ) {
        self.id = id
        self.currentLimit = currentLimit
        self.powerLimitKW = powerLimitKW
        self.meter = meter
        self.meterTimeoutSeconds = meterTimeoutSeconds
        self.panels = panels
        self.chargePoints = chargePoints
    }

    enum CodingKeys: String, CodingKey {
        case id, currentLimit, powerLimitKW = "powerLimitKw", meter, meterTimeoutSeconds, panels, chargePoints
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            currentLimit: try c.decode(PhaseLimit.self, forKey: .currentLimit),
            powerLimitKW: try c.decodeIfPresent(Double.self, forKey: .powerLimitKW),
            meter: try c.decode(MeterSource.self, forKey: .meter),
            meterTimeoutSeconds: try c.decodeIfPresent(Double.self, forKey: .meterTimeoutSeconds) ?? 30,
            panels: try c.decodeIfPresent([PanelConfig].self, forKey: .panels) ?? [],
            chargePoints: try c.decodeIfPresent([ChargePointConfig].self, forKey: .chargePoints) ?? [])
    }
}

/// What the control service may do with a charge point.
public enum ChargeMode: String, Sendable, Equatable, Codable, CaseIterable {
    /// Share of the available power (the default).
    case automatic
    /// A fixed current, still capped by every limit.
    case manual
    /// Only power that would otherwise be exported.
    case solar
    /// Never charge.
    case off
}

/// A charge point (level 4).
public struct ChargePointConfig: Sendable, Equatable, Decodable {
    public var id: String
    /// Device id of the charger whose state carries connection and measured currents; defaults to `id`.
    public var device: String?
    public var rotation: PhaseRotation
    /// Phases the charger is wired for (1–3). The car may use fewer: detected when it starts.
    public var phases: Int
    /// The charger can switch between 1 and 3 phases.
    public var phaseSwitching: Bool
    /// The car's minimum charging current, A.
    public var minCurrent: Double
    /// Added to the minimum before a car is started, A; `nil` = the preset's default.
    public var startBufferA: Double?
    /// Charger / cable rating, A.
    public var maxCurrent: Double
    /// The current the charger falls back to when it loses contact with the controller, A.
    public var safeCurrent: Double
    public var mode: ChargeMode
    /// Current for manual mode, A.
    public var manualCurrent: Double?
    /// Higher charges first when power is short; equal priorities go by configuration order.
    public var priority: Int
    /// The charger's state is considered lost after this, s.
    public var chargerTimeoutSeconds: Double
    /// Setpoint resolution the charger accepts, A (1 for chargers that take whole amperes).
    public var currentStep: Double

    public init(
        id: String, device: String? = nil, rotation: PhaseRotation = .l1l2l3, phases: Int = 3,
        phaseSwitching: Bool = false, minCurrent: Double = 6, startBufferA: Double? = nil, maxCurrent: Double = 16,
        safeCurrent: Double = 6, mode: ChargeMode = .automatic, manualCurrent: Double? = nil, priority: Int = 0,
        chargerTimeoutSeconds: Double = 60, currentStep: Double = 0.1
    ) {
        self.id = id
        self.device = device
        self.rotation = rotation
        self.phases = phases
        self.phaseSwitching = phaseSwitching
        self.minCurrent = minCurrent
        self.startBufferA = startBufferA
        self.maxCurrent = maxCurrent
        self.safeCurrent = safeCurrent
        self.mode = mode
        self.manualCurrent = manualCurrent
        self.priority = priority
        self.chargerTimeoutSeconds = chargerTimeoutSeconds
        self.currentStep = currentStep
    }

    enum CodingKeys: String, CodingKey {
        case id, device, rotation, phases, phaseSwitching, minCurrent, startBufferA = "startBufferA", maxCurrent
        case safeCurrent, mode, manualCurrent, priority, chargerTimeoutSeconds, currentStep
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ChargePointConfig(id: "")
        self.init(
            id: try c.decode(String.self, forKey: .id),
            device: try c.decodeIfPresent(String.self, forKey: .device),
            rotation: try c.decodeIfPresent(PhaseRotation.self, forKey: .rotation) ?? d.rotation,
            phases: try c.decodeIfPresent(Int.self, forKey: .phases) ?? d.phases,
            phaseSwitching: try c.decodeIfPresent(Bool.self, forKey: .phaseSwitching) ?? d.phaseSwitching,
            minCurrent: try c.decodeIfPresent(Double.self, forKey: .minCurrent) ?? d.minCurrent,
            startBufferA: try c.decodeIfPresent(Double.self, forKey: .startBufferA),
            maxCurrent: try c.decode(Double.self, forKey: .maxCurrent),
            safeCurrent: try c.decodeIfPresent(Double.self, forKey: .safeCurrent) ?? d.safeCurrent,
            mode: try c.decodeIfPresent(ChargeMode.self, forKey: .mode) ?? d.mode,
            manualCurrent: try c.decodeIfPresent(Double.self, forKey: .manualCurrent),
            priority: try c.decodeIfPresent(Int.self, forKey: .priority) ?? d.priority,
            chargerTimeoutSeconds: try c.decodeIfPresent(Double.self, forKey: .chargerTimeoutSeconds)
                ?? d.chargerTimeoutSeconds,
            currentStep: try c.decodeIfPresent(Double.self, forKey: .currentStep) ?? d.currentStep)
    }
}
