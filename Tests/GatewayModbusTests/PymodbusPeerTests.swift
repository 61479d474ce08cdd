import Foundation
import Gateway
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// pymodbus (PyPI), a Modbus implementation none of us wrote, serves a PAC2200
/// meter map and an Alfen Eve charger map; the gateway's services read and write
/// them, so the profiles are not only checked against our own simulator.
@Suite(.enabled(if: SchemaValidation.pythonAvailable, "needs PHASOR_PYTHON with pymodbus (scripts/test.sh sets it up)"), .endToEnd)
struct PymodbusPeerTests {
    @Test func gatewayReadsAMeterAndAChargerServedByPymodbusAndWritesTheSetpoint() async throws {
        let peer = try await PymodbusPeer.start()
        defer { peer.process.terminateBlocking() }
        let port = peer.port
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: peer.expectedFile)) as? [String: [String: Any]])

        let site = uniqueSite()
        let section = ModbusSection(devices: [
            ModbusDeviceConfig(id: "grid", profile: "siemens_pac2200", host: "127.0.0.1", port: port, unitId: 1),
            ModbusDeviceConfig(id: "garage", profile: "alfen_eve", host: "127.0.0.1", port: port, unitId: 2),
        ])
        let gateway = try await connectedClient()
        let observer = try await connectedClient()
        let topics = TopicBuilder(site: site)
        let meterStates = try await observer.subscribe(topics.meterState("grid"), qos: .atLeastOnce)
        let chargerStates = try await observer.subscribe(topics.chargePointState("garage"), qos: .atLeastOnce)
        let applied = try await observer.subscribe(topics.chargePointApplied("garage"), qos: .atLeastOnce)
        let services = try ModbusGateway.services(
            section, client: gateway, topics: topics,
            ticks: .init(device: .milliseconds(50), chargePoint: .milliseconds(50)), logger: quietLogger)
        #expect(services.count == 2)
        let running = RunningServices(services.compactMap { $0 as? any ServiceRunnable })

        // The meter: every value pymodbus serves, as the gateway publishes it. The
        // energy group comes with the first poll (every group is due at start).
        let meterState = try #require(await meterStates.next())
        let reading = try ReadingPayload.decode(meterState.payload)
        for (name, value) in try #require(expected["meter"]) {
            let want = try #require(value as? Double)
            let got = try #require(reading.values[Quantity(name)]?.number, "\(name) missing")
            #expect(abs(got - want) <= abs(want) * 1e-6, "\(name): \(got) vs \(want)")
        }

        // The charger's state.
        let chargerState = try ChargePointStatePayload.decode(try #require(await chargerStates.next()).payload)
        let want = try #require(expected["charger"])
        #expect(chargerState.status.rawValue == want["status"] as? String)
        #expect(chargerState.rawStatus == want["raw_status"] as? String)
        #expect(chargerState.currents.first ?? nil == want["current_l1"] as? Double)
        #expect(chargerState.power == want["power"] as? Double)
        #expect(chargerState.energyImport.map { abs($0 - 7654.321) < 1e-6 } == true)
        #expect(chargerState.currentLimit == want["current_limit"] as? Double)

        // A setpoint written into pymodbus's datastore, read back by a second master.
        try observer.publish(MQTTMessage(topic: topics.chargePointSetpoint("garage"), string: #"{"current": 14.5}"#, qos: .atLeastOnce))
        #expect(try AppliedPayload.decode(try #require(await applied.next()).payload).result == .applied)
        let written = try await readValue(ChargePointServiceTests.setpointRegister, port: port, unit: 2)
        #expect(written == 14.5)

        running.stop()
        await gateway.shutdown()
        await observer.shutdown()
    }
}

/// Tests/GatewayModbusTests/Scripts/pymodbus_peer.py running: a PAC2200 at unit 1
/// and an Alfen Eve at unit 2, on a free port; `expectedFile` holds the values served.
struct PymodbusPeer {
    let process: ChildProcess
    let port: Int
    let expectedFile: URL

    static func start() async throws -> PymodbusPeer {
        let python = try #require(ProcessInfo.processInfo.environment["PHASOR_PYTHON"])
        let script = try #require(Bundle.module.url(forResource: "pymodbus_peer", withExtension: "py", subdirectory: "Scripts"))
        let port = Loopback.freePort()
        let expectedFile = FileManager.default.temporaryDirectory.appendingPathComponent("pymodbus-\(UUID().uuidString).json")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("pymodbus-\(UUID().uuidString).log").path
        let process = try ChildProcess(python, [script.path, "\(port)", expectedFile.path], outputFile: log)
        let listening = await Loopback.waitUntilListening(port: port, timeout: .seconds(20))
        if !listening { process.terminateBlocking() }
        try #require(listening, "pymodbus did not listen: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        return PymodbusPeer(process: process, port: port, expectedFile: expectedFile)
    }
}
