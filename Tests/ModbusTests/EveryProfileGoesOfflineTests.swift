import Foundation
import PhasorCore
import Testing
@testable import Modbus

/// Issue 9, defect 2: a device that stops answering goes offline, whatever the
/// shape of its profile. Seven of the eight charger profiles read their state
/// register before the measurement poll; its failure threw before anything was
/// counted, so those chargers stayed `online` through any outage.
@Suite struct EveryProfileGoesOfflineTests {
    static let options = BusOptions(responseTimeout: ModbusTimeout(milliseconds: 100), retry: .none)

    static var chargerIDs: [String] { Fixtures.library.profiles.values.filter { $0.charger != nil }.map(\.id).sorted() }
    /// `generic` has no registers of its own (the site file gives them): nothing to poll.
    static var otherIDs: [String] {
        Fixtures.library.profiles.values.filter { $0.charger == nil && !$0.registers.isEmpty }.map(\.id).sorted()
    }

    @Test func everyShippedProfileIsCovered() {
        #expect(Self.chargerIDs.count == 8, "\(Self.chargerIDs)")
        #expect(Self.otherIDs.count >= 11, "\(Self.otherIDs)")
    }

    @Test(arguments: chargerIDs)
    func aChargerThatStopsAnsweringGoesOfflineAfterItsFailedStatusReads(_ id: String) async throws {
        let profile = try Fixtures.profile(id)
        let (simulator, device) = try Fixtures.tcpDevice(profile, options: Self.options, offlineAfter: 3)
        defer { simulator.stop() }
        let driver = try ModbusChargerDriver(device: device)
        _ = try await driver.readStatus()
        #expect(await device.health.availability == .online)
        simulator.setResponding(Fixtures.unit(of: profile), false)
        for attempt in 1...3 {
            await #expect(throws: ChargerError.self) { _ = try await driver.readStatus() }
            #expect(await device.health.consecutiveFailures == attempt, "\(id): failure \(attempt) counted")
        }
        #expect(await device.health.availability == .offline, "\(id)")
        simulator.setResponding(Fixtures.unit(of: profile), true)
        _ = try await driver.readStatus()
        #expect(await device.health.availability == .online, "\(id) back")
    }

    @Test(arguments: otherIDs)
    func aMeterOrInverterThatStopsAnsweringGoesOffline(_ id: String) async throws {
        let profile = try Fixtures.profile(id)
        let (simulator, device) = try Fixtures.tcpDevice(profile, options: Self.options, offlineAfter: 2)
        defer { simulator.stop() }
        _ = try await device.poll(groups: device.allGroups)
        #expect(await device.health.availability == .online)
        simulator.setResponding(Fixtures.unit(of: profile), false)
        for _ in 1...2 { await #expect(throws: ModbusError.self) { _ = try await device.poll(groups: device.allGroups) } }
        #expect(await device.health.availability == .offline, "\(id)")
    }

    /// A setpoint write the charger does not answer counts too: control's writes
    /// reach a silent charger before the next status poll does.
    @Test func unansweredSetpointWritesCount() async throws {
        let profile = try Fixtures.profile("alfen_eve")
        let (simulator, device) = try Fixtures.tcpDevice(profile, options: Self.options, offlineAfter: 3)
        defer { simulator.stop() }
        let driver = try ModbusChargerDriver(device: device)
        _ = try await driver.readStatus()
        simulator.setResponding(Fixtures.unit(of: profile), false)
        for current in [10.0, 11, 12] {
            await #expect(throws: ChargerError.self) { try await driver.setCurrentLimit(current) }
        }
        #expect(await device.health.availability == .offline)
    }

    /// Control repeats its decision every second; the charger gets it once (its
    /// watchdog is fed by `maintain()` at the profile's interval).
    @Test func anUnchangedSetpointIsNotRewritten() async throws {
        let profile = try Fixtures.profile("alfen_eve")
        let clock = ManualWallClock()
        let (simulator, device) = try Fixtures.tcpDevice(profile, clock: clock, options: Self.options)
        defer { simulator.stop() }
        let writes = Locked(0)
        simulator.observeWrites { _ in writes.withLock { $0 += 1 } }
        let driver = try ModbusChargerDriver(device: device, clock: clock)
        try await driver.setCurrentLimit(10)
        let first = writes.withLock { $0 }
        #expect(first >= 1)
        for _ in 1...10 {
            clock.advance(by: 1)
            try await driver.setCurrentLimit(10)
        }
        #expect(writes.withLock { $0 } == first, "an unchanged setpoint went to the bus again")
        try await driver.setCurrentLimit(12)
        #expect(writes.withLock { $0 } > first)
    }
}
