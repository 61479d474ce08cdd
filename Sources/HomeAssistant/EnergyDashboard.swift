/// Home Assistant's Energy dashboard rules (core `components/energy/validate.py`),
/// mirrored: which device class, state class and unit it accepts per source. Tests
/// check every quantity of the catalogue and every payload a service publishes.
public enum EnergyDashboard {
    static let energyUnits: Set<String> = ["Wh", "kWh", "MWh", "GJ", "MJ"]
    static let gasUnits: Set<String> = ["m³", "ft³", "CCF", "MCF", "L"]
    static let waterUnits: Set<String> = ["m³", "L", "gal", "ft³", "CCF", "MCF"]
    static let powerUnits: Set<String> = ["W", "kW", "MW"]
    static let totals: Set<String> = ["total", "total_increasing"]

    /// Nil when HA accepts the combination; else why not.
    public static func problem(_ c: EntityClass) -> String? {
        switch c.deviceClass {
        case "energy":
            guard let unit = c.unit, energyUnits.contains(unit) else { return "energy without an energy unit" }
            guard let state = c.stateClass, totals.contains(state) else { return "energy register not total_increasing" }
        case "gas":
            guard let unit = c.unit, gasUnits.contains(unit) else { return "gas without a volume unit" }
            guard let state = c.stateClass, totals.contains(state) else { return "gas register not total_increasing" }
        case "water":
            guard let unit = c.unit, waterUnits.contains(unit) else { return "water without a volume unit" }
            guard let state = c.stateClass, totals.contains(state) else { return "water register not total_increasing" }
        case "power":
            guard let unit = c.unit, powerUnits.contains(unit) else { return "power without a power unit" }
            if let state = c.stateClass, state != "measurement" { return "power must be a measurement" }
        case "voltage": if c.unit != "V" { return "voltage unit" }
        case "current": if c.unit != "A" { return "current unit" }
        case "battery": if c.unit != "%" { return "battery unit" }
        default: break
        }
        if c.deviceClass == nil, c.unit == "kWh" { return "kWh without the energy class" }
        return nil
    }
}
