import DeviceSimulators
import Foundation
import Gateway
import Modbus
import PhasorCore

/// The demo's devices, simulated over Modbus TCP on loopback by the same
/// simulator the tests use: a three-phase grid meter (Eastron SDM630) and two
/// Alfen Eve charge points with cars plugged in (a three-phase car, and a
/// single-phase car wired to L2). The loop is closed: the grid meter
/// shows the household plus whatever current control lets the cars draw, so a
/// slider change or a kettle is visible in the setpoints a second later.
final class DemoSite: Sendable {
    static let gridUnit: UInt8 = 1
    static let threePhaseUnit: UInt8 = 2
    static let singlePhaseUnit: UInt8 = 3

    let simulator: ModbusSimulator
    let port: Int
    private let household = DemoMeter()

    init() throws {
        let library = ProfileLibrary.load()
        simulator = ModbusSimulator()
        for (profile, unit) in [("eastron_sdm630", Self.gridUnit), ("alfen_eve", Self.threePhaseUnit),
                                ("alfen_eve", Self.singlePhaseUnit)] {
            guard let resolved = library[profile] else { throw DemoError("shipped profile \(profile) missing") }
            try simulator.add(resolved, unitID: unit)
        }
        simulator.updateCharger(unitID: Self.threePhaseUnit) { $0.vehicle = .init(phases: 3, maxCurrent: 16, response: .typical) }
        simulator.updateCharger(unitID: Self.singlePhaseUnit) { $0.vehicle = .init(phases: 1, maxCurrent: 32, response: .typical) }
        port = try simulator.startTCP()
        updateGridMeter(at: Date())
    }

    /// The site file the three services read: the devices above and control's tree.
    func siteYAML(site: String) -> String {
        """
        site: \(site)
        modbus:
          devices:
            - {id: grid, profile: eastron_sdm630, host: 127.0.0.1, port: \(port), unit_id: \(Self.gridUnit), tcp_gateway: true}
            - {id: cp1, profile: alfen_eve, host: 127.0.0.1, port: \(port), unit_id: \(Self.threePhaseUnit)}
            - {id: cp2, profile: alfen_eve, host: 127.0.0.1, port: \(port), unit_id: \(Self.singlePhaseUnit)}
        control:
          budget: {slider_kw: 9}   # both cars fit; try 4 to see the budget pause one
          site:
            id: main
            current_limit: 25
            meter: grid
            charge_points:
              - {id: cp1, max_current: 16}
              - {id: cp2, max_current: 32, phases: 1, rotation: L2L3L1}

        """
    }

    /// Household (the demo meter's model) plus the cars' currents, as the grid meter measures them.
    func updateGridMeter(at now: Date) {
        let house = household.reading(at: now)
        var amps = (1...3).map { house.number(Quantity.power.phase($0)).map { $0 / 230 } ?? 0 }
        if let car = simulator.charger(unitID: Self.threePhaseUnit) {
            let drawn = car.chargingCurrent(at: now)
            for phase in 0..<car.phasesInUse(at: now) { amps[phase] += drawn }
        }
        if let car = simulator.charger(unitID: Self.singlePhaseUnit), car.phasesInUse(at: now) > 0 {
            amps[1] += car.chargingCurrent(at: now)  // wired L2L3L1: its phase 1 is L2
        }
        var total = 0.0
        for phase in 1...3 {
            let watts = amps[phase - 1] * 230
            total += watts
            simulator.override(unitID: Self.gridUnit, Quantity.current.phase(phase), abs(amps[phase - 1]))
            simulator.override(unitID: Self.gridUnit, Quantity.power.phase(phase), watts)
            simulator.override(unitID: Self.gridUnit, Quantity.voltage.phase(phase), 230)
        }
        simulator.override(unitID: Self.gridUnit, .power, total)
    }
}

struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
