import Foundation
import HomeAssistant
import PhasorCore
import Testing

@Suite struct EnergyDashboardTests {
    @Test func everyCatalogueQuantityHasAClassHomeAssistantAccepts() {
        for quantity in Quantity.catalog.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            let c = EntityClass.of(quantity)
            #expect(EnergyDashboard.problem(c) == nil, "\(quantity): \(EnergyDashboard.problem(c) ?? "")")
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
