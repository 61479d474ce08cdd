import PhasorCore

/// How Home Assistant should read one Phasor quantity: the one table from the
/// vocabulary (`Quantity`, `Unit`) to HA's sensor device classes, state classes and
/// units. Every discovery payload takes its classes from here, never from a
/// service's own guess.
///
/// The Energy dashboard accepts a sensor as a source only with
/// `device_class` `energy` (or `gas`, `water`), `state_class` `total_increasing`
/// and an energy or volume unit; live power needs `power` + `measurement`.
/// Registers are published as the meter sent them (never smoothed or rounded
/// down), so `total_increasing` only sees a decrease when the meter was replaced.
public struct EntityClass: Sendable, Hashable {
    public var deviceClass: String?
    public var stateClass: String?
    /// Home Assistant's unit string; nil for text, timestamps and counts.
    public var unit: String?
    /// `diagnostic` for identifiers, protocol details and limiter thresholds.
    public var entityCategory: String?

    public init(deviceClass: String? = nil, stateClass: String? = nil, unit: String? = nil, entityCategory: String? = nil) {
        self.deviceClass = deviceClass
        self.stateClass = stateClass
        self.unit = unit
        self.entityCategory = entityCategory
    }

    static let measurement = "measurement"
    static let totalIncreasing = "total_increasing"
    static let diagnostic = "diagnostic"

    /// The classes of a quantity. Names outside the catalogue become plain sensors
    /// (no class, no unit): HA shows them, the Energy dashboard ignores them.
    public static func of(_ quantity: Quantity) -> EntityClass {
        let name = quantity.rawValue
        if let special = special[quantity] { return special }
        if name.hasSuffix("_time") { return EntityClass(deviceClass: "timestamp", entityCategory: diagnostic) }
        guard let unit = quantity.unit else { return EntityClass() }
        switch unit {
        case .watt: return EntityClass(deviceClass: "power", stateClass: measurement, unit: "W")
        case .kilowattHour: return EntityClass(deviceClass: "energy", stateClass: totalIncreasing, unit: "kWh")
        case .gigajoule: return EntityClass(deviceClass: "energy", stateClass: totalIncreasing, unit: "GJ")
        case .volt: return EntityClass(deviceClass: "voltage", stateClass: measurement, unit: "V")
        case .ampere: return EntityClass(deviceClass: "current", stateClass: measurement, unit: "A")
        case .hertz: return EntityClass(deviceClass: "frequency", stateClass: measurement, unit: "Hz")
        case .voltAmpere: return EntityClass(deviceClass: "apparent_power", stateClass: measurement, unit: "VA")
        case .voltAmpereReactive: return EntityClass(deviceClass: "reactive_power", stateClass: measurement, unit: "var")
        // HA 2025.4 has no reactive-energy device class: a counter with its unit.
        case .kilovarHour: return EntityClass(stateClass: totalIncreasing, unit: "kvarh")
        case .cubicMetre: return EntityClass(stateClass: totalIncreasing, unit: "m³")
        case .litre: return EntityClass(stateClass: totalIncreasing, unit: "L")
        case .cubicMetrePerHour: return EntityClass(deviceClass: "volume_flow_rate", stateClass: measurement, unit: "m³/h")
        case .litrePerMinute: return EntityClass(deviceClass: "volume_flow_rate", stateClass: measurement, unit: "L/min")
        case .celsius: return EntityClass(deviceClass: "temperature", stateClass: measurement, unit: "°C")
        case .percent: return EntityClass(stateClass: measurement, unit: "%")
        case .second: return EntityClass(deviceClass: "duration", stateClass: measurement, unit: "s")
        case .count: return EntityClass(stateClass: totalIncreasing)
        case .ratio: return EntityClass(deviceClass: "power_factor", stateClass: measurement)
        case .none: return EntityClass(entityCategory: diagnostic)
        }
    }

    /// Where the unit alone does not say enough.
    private static let special: [Quantity: EntityClass] = [
        .gasVolume: EntityClass(deviceClass: "gas", stateClass: totalIncreasing, unit: "m³"),
        .waterVolume: EntityClass(deviceClass: "water", stateClass: totalIncreasing, unit: "m³"),
        .batterySoC: EntityClass(deviceClass: "battery", stateClass: measurement, unit: "%"),
        .meterTime: EntityClass(deviceClass: "timestamp", entityCategory: diagnostic),
        // The energy of the running session restarts at each session: a decrease is a reset.
        .sessionEnergy: EntityClass(deviceClass: "energy", stateClass: totalIncreasing, unit: "kWh"),
        .powerLimit: EntityClass(deviceClass: "power", unit: "W", entityCategory: diagnostic),
        .tariffIndicator: EntityClass(),
    ]
}
