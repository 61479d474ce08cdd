import Foundation
import HomeAssistant
import PhasorCore
import Testing

/// Home Assistant's Energy dashboard rules (core `components/energy/validate.py`),
/// mirrored: what it accepts per source, checked on every quantity of the catalogue.
enum EnergyRules {
    static let energyUnits: Set<String> = ["Wh", "kWh", "MWh", "GJ", "MJ"]
    static let gasUnits: Set<String> = ["m³", "ft³", "CCF", "MCF", "L"]
    static let waterUnits: Set<String> = ["m³", "L", "gal", "ft³", "CCF", "MCF"]
    static let powerUnits: Set<String> = ["W", "kW", "MW"]
    static let totals: Set<String> = ["total", "total_increasing"]

    /// Nil when HA accepts the combination; else why not.
    static func problem(_ c: EntityClass) -> String? {
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

@Suite struct EnergyDashboardTests {
    @Test func everyCatalogueQuantityHasAClassHomeAssistantAccepts() {
        for quantity in Quantity.catalog.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            let c = EntityClass.of(quantity)
            #expect(EnergyRules.problem(c) == nil, "\(quantity): \(EnergyRules.problem(c) ?? "")")
        }
    }

    @Test func energyRegistersPerTariffAreEnergyDashboardSources() {
        var registers: [Quantity] = [.energyImport, .energyExport, .pvEnergy, .batteryEnergyCharge, .batteryEnergyDischarge]
        for t in 1...4 { registers += [Quantity.energyImport.tariff(t), Quantity.energyExport.tariff(t)] }
        for q in registers {
            #expect(EntityClass.of(q) == EntityClass(deviceClass: "energy", stateClass: "total_increasing", unit: "kWh"), "\(q)")
        }
        #expect(EntityClass.of(.gasVolume) == EntityClass(deviceClass: "gas", stateClass: "total_increasing", unit: "m³"))
        #expect(EntityClass.of(.waterVolume) == EntityClass(deviceClass: "water", stateClass: "total_increasing", unit: "m³"))
    }

    @Test func powersAreMeasurementsInWatts() {
        for q: Quantity in [.power, .powerImport, .powerExport, .pvPower, .batteryPower, .power.phase(2),
                            .powerImportQuarterHourAverage, .powerImportMonthPeak] {
            #expect(EntityClass.of(q) == EntityClass(deviceClass: "power", stateClass: "measurement", unit: "W"), "\(q)")
        }
        #expect(EntityClass.of(.batterySoC) == EntityClass(deviceClass: "battery", stateClass: "measurement", unit: "%"))
    }

    @Test func identifiersAndTimesAreDiagnosticsWithoutStateClass() {
        #expect(EntityClass.of(.meterID) == EntityClass(entityCategory: "diagnostic"))
        #expect(EntityClass.of(.meterTime).deviceClass == "timestamp")
        #expect(EntityClass.of(.gasVolumeTime).deviceClass == "timestamp")
        #expect(EntityClass.of(Quantity("some_register_a_user_added")) == EntityClass())
    }
}
