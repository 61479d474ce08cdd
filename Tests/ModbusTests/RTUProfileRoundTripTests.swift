import DeviceSimulators
import Foundation
import PhasorCore
import Testing
@testable import Modbus

/// Every shipped profile with an RTU interface, served by the simulator on one end
/// of a socat pty and polled from the other at the profile's own line settings.
@Suite struct RTUProfileRoundTripTests {
    static let rtuIDs = ProfileLoadingTests.expectedIDs
        .filter { Fixtures.library[$0].map { $0.profile.connection.transports.contains(.rtu) && !$0.registers.isEmpty } ?? false }
        .sorted()

    @Test func theRTUProfilesAreTheOnesTheReferenceNames() {
        #expect(Self.rtuIDs.count >= 7, "\(Self.rtuIDs)")
    }

    @Test(arguments: rtuIDs)
    func everyRTUProfileReadsTheSimulatedModelOverAPty(id: String) async throws {
        let profile = try Fixtures.profile(id)
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 86400) + 37_800))
        let pair = try await SocatPTYPair.start()
        let simulator = ModbusSimulator(clock: clock)
        let unit = Fixtures.unit(of: profile)
        try simulator.add(profile)
        try simulator.startRTU(device: pair.second)
        if profile.kind == .charger {
            simulator.updateCharger(unitID: unit) { $0.vehicle = .init(phases: 3); $0.setpoint = 10 }
        }
        let serial = profile.profile.connection.serial ?? SerialSettings()
        let bus = ModbusBus(link: .rtu(device: pair.first, defaultSettings: serial), options: Fixtures.fastOptions)
        let device = ModbusDevice(id: id, profile: profile, bus: bus, target: BusTarget(unitID: unit, serial: serial), clock: clock)
        let reading = try await device.poll(groups: Set(profile.pollIntervals.keys))
        let expected = simulator.values(unitID: unit)
        for (quantity, registers) in Dictionary(grouping: profile.registers, by: \.quantity) {
            let model = try #require(expected[quantity], "\(id): model has no \(quantity)")
            let read = try #require(reading.number(quantity), "\(id): \(quantity) missing")
            #expect(abs(read - model) <= Fixtures.tolerance(registers, value: model), "\(id) \(quantity): read \(read), model \(model)")
        }
        #expect(await bus.lineState().settings == serial)
        await bus.close()
        simulator.stop()
        await pair.stop()
    }
}
