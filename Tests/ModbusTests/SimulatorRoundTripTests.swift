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

    /// A simulated meter is physically consistent: |S| ≥ |P| and S² = P² + Q², also
    /// when the power is pinned (the demo adds the cars to the household this way).
    @Test func aSimulatedMetersApparentPowerGoesWithItsRealPower() async throws {
        let profile = try Fixtures.profile("eastron_sdm630")
        let (simulator, device) = try Fixtures.tcpDevice(profile)
        defer { simulator.stop() }
        for power in [7400.0, -2500, 0, 450] {
            simulator.override(unitID: Fixtures.unit(of: profile), .power, power)
            let reading = try await device.poll(groups: Set(profile.pollIntervals.keys))
            let p = try #require(reading.number(.power))
            let s = try #require(reading.number(.apparentPower))
            let q = try #require(reading.number(.reactivePower))
            let pf = try #require(reading.number(.powerFactor))
            #expect(abs(p - power) < 0.01)
            #expect(s >= abs(p) - 0.01, "S \(s) below |P| \(p)")
            #expect(abs(s * s - (p * p + q * q)) <= max(1, s * s * 1e-6), "S² ≠ P² + Q²: \(s), \(p), \(q)")
            #expect(abs(pf - (s > 0 ? abs(p) / s : 1)) < 0.001)
        }
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

@Suite struct SunSpecScaleFactorTests {
    @Test func scaleFactorsAreReadInTheSamePollAndApplied() async throws {
        let profile = try Fixtures.profile("sunspec_meter_203")
        let blocks = ReadPlan.blocks(for: profile.registers, maxGap: profile.profile.maxGap ?? 0)
        #expect(blocks.map { "\($0.start)+\($0.count)" } == ["40072+53"])  // values and factors in one read
        let (simulator, device) = try Fixtures.tcpDevice(profile)
        defer { simulator.stop() }
        simulator.override(unitID: 1, .power, -1234.5)
        let words = try await device.read(.holdingRegisters, address: 40088, count: 5)
        let sf = Int16(bitPattern: words[4])
        #expect(sf == -1)  // -12345 fits int16 at 0.1 W steps
        #expect(Int16(bitPattern: words[0]) == -12345)
        let reading = try await device.poll()
        #expect(reading.number(.power) == -1234.5)
        let voltageSF = Int16(bitPattern: try await device.read(.holdingRegisters, address: 40085, count: 1)[0])
        #expect(voltageSF == -2)  // 230 V → 23000
    }

    @Test func knownRawValuesAndTheNotImplementedFactor() throws {
        let register = try #require(Fixtures.library["sunspec_meter_203"]?.registers.first { $0.quantity == .energyImport })
        // 0x0001E240 = 123456 Wh × 10^1 = 1234.56 kWh
        #expect(register.value(from: [0x0001, 0xE240], scaleFactor: 1) == 1234.56)
        #expect(register.value(from: [0x0001, 0xE240], scaleFactor: Int16.min) == nil)  // 0x8000: not implemented
        #expect(register.value(from: [0x0001, 0xE240], scaleFactor: nil) == nil)  // factor not read
        #expect(powerOfTen(-2) == 0.01 && powerOfTen(3) == 1000)
    }
}
