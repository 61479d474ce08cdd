import Foundation
import PhasorCore
import Testing
@testable import Modbus

/// Every shipped profile, served by the simulator over real libmodbus TCP on
/// loopback and polled by the gateway side, must read back the simulated model.
@Suite struct SimulatorRoundTripTests {
    @Test(arguments: ProfileLoadingTests.expectedIDs.sorted())
    func everyProfileReadsTheSimulatedModelOverTCP(id: String) async throws {
        let profile = try Fixtures.profile(id)
        // 10:30 UTC: PV produces, the battery charges, the appliance runs.
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 86400) + 37_800))
        let (simulator, device) = try Fixtures.tcpDevice(profile, clock: clock)
        defer { simulator.stop() }
        if profile.kind == .charger {
            simulator.updateCharger(unitID: Fixtures.unit(of: profile)) { $0.vehicle = .init(phases: 3); $0.setpoint = 10 }
        }
        let reading = try await device.poll(groups: Set(profile.pollIntervals.keys))
        let expected = simulator.values(unitID: Fixtures.unit(of: profile))
        let byQuantity = Dictionary(grouping: profile.registers, by: \.quantity)
        for (quantity, registers) in byQuantity {
            let model = try #require(expected[quantity], "\(id): model has no \(quantity)")
            let read = try #require(reading.number(quantity), "\(id): \(quantity) missing from the reading")
            #expect(abs(read - model) <= Fixtures.tolerance(registers, value: model), "\(id) \(quantity): read \(read), model \(model)")
        }
        #expect(reading.values.count == byQuantity.count)
        #expect(reading.device == id)
        #expect(reading.time.date == clock.now())
        // A profile without registers (generic, Hager) makes no request in a poll.
        #expect(await device.health.availability == (profile.registers.isEmpty ? .unknown : .online))
    }

    @Test func signsAreNormalisedToImportAndDischargePositive() async throws {
        // Huawei reports grid power export-positive and battery power charge-positive.
        let profile = try Fixtures.profile("huawei_sun2000")
        let (simulator, device) = try Fixtures.tcpDevice(profile)
        defer { simulator.stop() }
        simulator.override(unitID: 1, .power, -2500)  // exporting
        simulator.override(unitID: 1, .batteryPower, -1200)  // charging
        let raw = try await device.read(.holdingRegisters, address: 37113, count: 2)
        #expect(RegisterCodec.decode(raw, type: .int32, order: .abcd) == 2500)  // the device's own sign
        let reading = try await device.poll(groups: ["default"])
        #expect(reading.number(.power) == -2500)
        #expect(reading.number(.batteryPower) == -1200)
    }

    @Test func splitRegistersAreCombined() async throws {
        // SMA: grid power = import register − export register.
        let profile = try Fixtures.profile("sma_stp_se")
        let (simulator, device) = try Fixtures.tcpDevice(profile)
        defer { simulator.stop() }
        simulator.override(unitID: 3, .power, -1800)
        let importWords = try await device.read(.inputRegisters, address: 30865, count: 2)
        let exportWords = try await device.read(.inputRegisters, address: 30867, count: 2)
        #expect(RegisterCodec.decode(importWords, type: .uint32, order: .abcd) == 0)
        #expect(RegisterCodec.decode(exportWords, type: .uint32, order: .abcd) == 1800)
        let reading = try await device.poll(groups: ["default"])
        #expect(reading.number(.power) == -1800)
    }

    @Test func pollGroupsFollowTheirIntervals() async throws {
        let profile = try Fixtures.profile("eastron_sdm630")  // default 2 s, energy 30 s
        let clock = ManualWallClock()
        let (simulator, device) = try Fixtures.tcpDevice(profile, clock: clock)
        defer { simulator.stop() }
        let first = try await device.poll()
        #expect(first.number(.energyImport) != nil && first.number(.power) != nil)
        clock.advance(by: 2)
        let second = try await device.poll()
        #expect(second.number(.power) != nil)
        #expect(second.number(.energyImport) == nil)
        clock.advance(by: 28)
        #expect(await device.dueGroups() == ["default", "energy"])
    }
}
