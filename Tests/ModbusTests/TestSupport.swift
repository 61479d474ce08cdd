import DeviceSimulators
import Foundation
import PhasorCore
import Testing
@testable import Modbus

/// Shared fixtures: the shipped profiles, a fast bus, a simulator on a free port.
enum Fixtures {
    static let library = ProfileLibrary.load()

    static func profile(_ id: String) throws -> ResolvedProfile {
        try #require(library[id], "shipped profile \(id)")
    }

    /// Test buses never wait: no connect or inter-frame delay, short timeout, no retry.
    static let fastOptions = BusOptions(responseTimeout: ModbusTimeout(milliseconds: 300), retry: .none)

    static func unit(of profile: ResolvedProfile) -> UInt8 { UInt8(clamping: profile.profile.connection.unitId) }

    /// A simulator serving `profile` over TCP on a free port, with a bus and a device polling it.
    static func tcpDevice(_ profile: ResolvedProfile, clock: ManualWallClock = ManualWallClock(),
                          options: BusOptions = fastOptions, offlineAfter: Int = 3) throws
        -> (ModbusSimulator, ModbusDevice)
    {
        let simulator = ModbusSimulator(clock: clock)
        try simulator.add(profile)
        let port = try simulator.startTCP()
        let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: options)
        let device = ModbusDevice(id: profile.id, profile: profile, bus: bus, target: BusTarget(unitID: unit(of: profile)),
                                  offlineAfter: offlineAfter, clock: clock)
        return (simulator, device)
    }

    /// How far a decoded value may be from the model: one step of the register's resolution.
    static func tolerance(_ registers: [ResolvedRegister], value: Double) -> Double {
        registers.reduce(1e-9) { sum, r in
            if r.scaleFactor != nil {
                // sunssf: the simulator picks the finest factor that fits, so the error is relative.
                return sum + abs(value) * 2e-4 + abs(r.layout.scale * r.factor) * 1e-3
            }
            return sum + (r.layout.type.isFloat ? abs(value) * 1e-6 + 1e-9 : abs(r.layout.scale * r.factor) * 0.5 + 1e-9)
        }
    }
}
