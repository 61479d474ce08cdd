import DeviceSimulators
import Foundation
import PhasorCore
import Testing
@testable import Modbus

@Suite struct ChargerDriverTests {
    static let chargerIDs = ProfileLoadingTests.expectedIDs.filter { Fixtures.library[$0]?.kind == .charger }.sorted()

    struct Rig {
        let simulator: ModbusSimulator
        let driver: ModbusChargerDriver
        let clock: ManualWallClock
        let unit: UInt8
    }

    static func rig(_ id: String, commandTimeout: TimeInterval = 120) throws -> Rig {
        let profile = try Fixtures.profile(id)
        let clock = ManualWallClock()
        let (simulator, device) = try Fixtures.tcpDevice(profile, clock: clock)
        let driver = try ModbusChargerDriver(device: device, commandTimeout: commandTimeout, clock: clock)
        return Rig(simulator: simulator, driver: driver, clock: clock, unit: Fixtures.unit(of: profile))
    }

    @Test(arguments: chargerIDs)
    func setpointIsWrittenAndReadBack(id: String) async throws {
        let rig = try Self.rig(id)
        defer { rig.simulator.stop() }
        #expect(try await rig.driver.readStatus().state == .disconnected)
        rig.simulator.updateCharger(unitID: rig.unit) { $0.vehicle = .init(phases: 3) }
        try await rig.driver.setCurrentLimit(13)
        #expect(rig.simulator.charger(unitID: rig.unit)?.setpoint == 13)
        let charging = try await rig.driver.readStatus()
        #expect(charging.state == .charging, "\(id): \(charging.rawState)")
        #expect(charging.currentLimit.map { abs($0 - 13) < 0.01 } ?? false, "\(id): limit \(String(describing: charging.currentLimit))")
        if !charging.currents.isEmpty {
            #expect(charging.currents.map { ($0 * 100).rounded() / 100 } == [13, 13, 13], "\(id)")
            #expect(charging.phasesInUse == 3)
        }
        try await rig.driver.setCurrentLimit(0)
        let paused = try await rig.driver.readStatus()
        #expect(paused.state == .connected, "\(id): \(paused.rawState)")
        #expect(rig.simulator.charger(unitID: rig.unit)?.chargingCurrent(at: rig.clock.now()) == 0)
    }

    @Test(arguments: [3.0, 5.99, 32.5, -1, .nan])
    func setpointsOutsideTheProfileLimitsAreRefused(amps: Double) async throws {
        let rig = try Self.rig("alfen_eve")
        defer { rig.simulator.stop() }
        await #expect(throws: ChargerError.self) { try await rig.driver.setCurrentLimit(amps) }
        #expect(rig.simulator.charger(unitID: rig.unit)?.setpoint == 6)  // untouched safe current
    }

    @Test func watchdogLapseFallsBackToSafeCurrentAndFeedingRestoresIt() async throws {
        let rig = try Self.rig("alfen_eve")  // validity 60 s, safe 6 A, fed by rewriting 1210
        defer { rig.simulator.stop() }
        rig.simulator.updateCharger(unitID: rig.unit) { $0.vehicle = .init(phases: 3) }
        try await rig.driver.setCurrentLimit(16)
        rig.clock.advance(by: 20)
        try await rig.driver.maintain()  // interval 25 s not reached: nothing to do
        #expect(try await rig.driver.readStatus().currentLimit == 16)
        rig.clock.advance(by: 45)  // 65 s since the last write: lapsed
        let lapsed = try await rig.driver.readStatus()
        #expect(lapsed.currentLimit == 6)
        #expect(lapsed.currents == [6, 6, 6])
        try await rig.driver.maintain()  // feeds: rewrites 16 A
        #expect(try await rig.driver.readStatus().currentLimit == 16)
    }

    @Test func heartbeatRegisterKeepsTheCompactAlive() async throws {
        let rig = try Self.rig("mennekes_amtron_compact20s")  // heartbeat 0x55AA every 5 s, timeout 15 s
        defer { rig.simulator.stop() }
        rig.simulator.updateCharger(unitID: rig.unit) { $0.vehicle = .init(phases: 1, maxCurrent: 16) }
        try await rig.driver.setCurrentLimit(16)
        for _ in 0..<6 {
            rig.clock.advance(by: 5)
            try await rig.driver.maintain()
        }
        #expect(rig.simulator.charger(unitID: rig.unit)?.watchdogLapsed(at: rig.clock.now()) == false)
        #expect(try await rig.driver.readStatus().currents == [16, 0, 0])
        rig.clock.advance(by: 16)
        #expect(rig.simulator.charger(unitID: rig.unit)?.appliedLimit(at: rig.clock.now()) == 6)
    }

    @Test func silentControlMakesTheDriverWriteTheSafeCurrent() async throws {
        let rig = try Self.rig("enovates", commandTimeout: 30)  // no device watchdog
        defer { rig.simulator.stop() }
        rig.simulator.updateCharger(unitID: rig.unit) { $0.vehicle = .init(phases: 3) }
        try await rig.driver.setCurrentLimit(25)
        rig.clock.advance(by: 29)
        try await rig.driver.maintain()
        #expect(await rig.driver.isInFallback == false)
        rig.clock.advance(by: 2)
        try await rig.driver.maintain()
        #expect(await rig.driver.isInFallback)
        #expect(rig.simulator.charger(unitID: rig.unit)?.setpoint == 6)
        try await rig.driver.setCurrentLimit(10)
        #expect(await rig.driver.isInFallback == false)
    }

    /// A wall clock stepped back (the chaos soak steps it) left the last command in the
    /// future: a control that then went silent was not answered with the safe current
    /// until the clock had caught up.
    @Test func aWallClockSteppedBackDoesNotDelayTheFallback() async throws {
        let rig = try Self.rig("enovates", commandTimeout: 30)  // no device watchdog
        defer { rig.simulator.stop() }
        rig.simulator.updateCharger(unitID: rig.unit) { $0.vehicle = .init(phases: 3) }
        try await rig.driver.setCurrentLimit(25)
        rig.clock.advance(by: -600)
        try await rig.driver.maintain()
        #expect(await rig.driver.isInFallback == false, "the silence counts from the step")
        rig.clock.advance(by: 31)
        try await rig.driver.maintain()
        #expect(await rig.driver.isInFallback)
        #expect(rig.simulator.charger(unitID: rig.unit)?.setpoint == 6)
    }

    @Test(arguments: [1, 2, 3])
    func carConnectsOnItsPhases(phases: Int) async throws {
        let rig = try Self.rig("alfen_eve")
        defer { rig.simulator.stop() }
        rig.simulator.updateCharger(unitID: rig.unit) { $0.vehicle = .init(phases: phases, maxCurrent: 20) }
        try await rig.driver.setCurrentLimit(32)
        let status = try await rig.driver.readStatus()
        #expect(status.phasesInUse == phases)
        #expect(status.currents.filter { $0 > 0 } == Array(repeating: 20, count: phases))  // the car's own limit
        #expect(abs((status.power ?? 0) - 230 * 20 * Double(phases)) < 0.5)
    }

    @Test func phaseSwitchWhereSupported() async throws {
        let rig = try Self.rig("alfen_eve")
        defer { rig.simulator.stop() }
        rig.simulator.updateCharger(unitID: rig.unit) { $0.vehicle = .init(phases: 3) }
        try await rig.driver.setCurrentLimit(10)
        try await rig.driver.setPhases(1)
        #expect(try await rig.driver.readStatus().phasesInUse == 1)
        try await rig.driver.setPhases(3)
        #expect(try await rig.driver.readStatus().phasesInUse == 3)
        await #expect(throws: ChargerError.unsupported("2 phases (use 1 or 3)")) { try await rig.driver.setPhases(2) }

        let abb = try Self.rig("abb_terra_ac")
        defer { abb.simulator.stop() }
        await #expect(throws: ChargerError.unsupported("1p/3p switching")) { try await abb.driver.setPhases(1) }
    }

    @Test func enableRegisterPausesPhoenixWithoutTouchingTheCurrent() async throws {
        let rig = try Self.rig("phoenix_ev_eth")  // coil 400
        defer { rig.simulator.stop() }
        rig.simulator.updateCharger(unitID: rig.unit) { $0.vehicle = .init(phases: 3) }
        try await rig.driver.setCurrentLimit(12)
        #expect(try await rig.driver.readStatus().enabled == true)
        try await rig.driver.setEnabled(false)
        let status = try await rig.driver.readStatus()
        #expect(status.enabled == false)
        #expect(status.state == .connected)
        #expect(status.currentLimit == 12)
    }

    @Test func faultIsReportedAsError() async throws {
        let rig = try Self.rig("mennekes_amtron_professional")
        defer { rig.simulator.stop() }
        rig.simulator.updateCharger(unitID: rig.unit) { $0.vehicle = .init(phases: 3); $0.fault = true }
        let status = try await rig.driver.readStatus()
        #expect(status.state == .error)
        #expect(status.rawState == "5")
    }
}
