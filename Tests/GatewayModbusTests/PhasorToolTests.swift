import DeviceSimulators
import Foundation
import Modbus
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// `phasor device test` and `phasor profiles`, run as the installer runs them.
@Suite(.endToEnd) struct PhasorToolTests {
    func run(_ arguments: [String]) async throws -> (status: Int32?, output: String) {
        let path = GatewayProcessTests.binDirectory.appendingPathComponent("phasor").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-\(UUID().uuidString).txt").path
        let process = try ChildProcess(path, arguments, outputFile: out)
        let status = await process.waitForExit(timeout: .seconds(20))
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    @Test func deviceTestPrintsEveryRegisterOfASimulatedCharger() async throws {
        let clock = ManualWallClock()
        let simulator = ModbusSimulator(clock: clock)
        try simulator.add(try profile("alfen_eve"), unitID: 1)
        simulator.updateCharger(unitID: 1) { $0.vehicle = .init(phases: 3); $0.setpoint = 11 }
        let port = try simulator.startTCP()
        defer { simulator.stop() }
        let result = try await run(["device", "test", "alfen_1", "--modbus", "tcp://127.0.0.1:\(port)", "--device", "alfen:1"])
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n").map(String.init)
        let power = try #require(lines.first { $0.hasPrefix("power ") }, "\(result.output)")
        #expect(power.contains("344") && power.contains("7590") && power.contains(" W "), "\(power)")
        #expect(lines.contains { $0.hasPrefix("charger.state") && $0.contains("C2 (charging)") }, "\(result.output)")
        #expect(result.output.contains("10 of 10 registers read"))
    }

    @Test func deviceTestShowsTheErrorOfADeviceThatDoesNotAnswer() async throws {
        let simulator = ModbusSimulator()
        try simulator.add(try profile("siemens_pac2200"), unitID: 1)
        simulator.setResponding(1, false)
        let port = try simulator.startTCP()
        defer { simulator.stop() }
        let site = FileManager.default.temporaryDirectory.appendingPathComponent("site-\(UUID().uuidString).yaml")
        try """
            site: t
            modbus:
              devices:
                - {id: grid, profile: siemens_pac2200, host: 127.0.0.1, port: \(port), timeout_ms: 100, retries: 0}
            """.write(to: site, atomically: true, encoding: .utf8)
        let result = try await run(["device", "test", "grid", "--config", site.path])
        #expect(result.status == 1)
        #expect(result.output.contains("timeout"), "\(result.output)")
        let count = try profile("siemens_pac2200").registers.count
        #expect(result.output.contains("0 of \(count) registers read"), "\(result.output)")
    }

    @Test func profilesListsEveryShippedProfile() async throws {
        let result = try await run(["profiles"])
        #expect(result.status == 0)
        let ids = result.output.split(separator: "\n").dropFirst(2).map { String($0.prefix { $0 != " " }) }
        #expect(Set(ids) == Set(library.profiles.keys))
        #expect(ids.count == 21)
    }

    @Test func configCheckNamesTheFaultyModbusDevice() async throws {
        let site = FileManager.default.temporaryDirectory.appendingPathComponent("site-\(UUID().uuidString).yaml")
        try "site: t\nmodbus:\n  devices:\n    - {id: pv, profile: fronius_magic, host: 192.0.2.1}\n"
            .write(to: site, atomically: true, encoding: .utf8)
        let result = try await run(["config", "check", site.path])
        #expect(result.status == 2)
        #expect(result.output.contains("\(site.path):4: modbus.pv.profile: unknown profile 'fronius_magic'"), "\(result.output)")
    }
}
