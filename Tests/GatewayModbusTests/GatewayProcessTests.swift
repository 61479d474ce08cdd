import DeviceSimulators
import Foundation
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// The phasor-gateway executable with the quick-start flags, against the simulator.
@Suite(.endToEnd) struct GatewayProcessTests {
    static let binDirectory = BuiltExecutables.directory

    @Test func quickStartFlagsPollASimulatedMeterAndCharger() async throws {
        let gatewayPath = Self.binDirectory.appendingPathComponent("phasor-gateway").path
        try #require(FileManager.default.isExecutableFile(atPath: gatewayPath), "build phasor-gateway first")
        let simulator = ModbusSimulator()
        try simulator.add(try profile("siemens_pac2200"), unitID: 1)
        try simulator.add(try profile("alfen_eve"), unitID: 2)
        let port = try simulator.startTCP()
        defer { simulator.stop() }
        let brokerPort = try await SharedBroker.port()
        let site = uniqueSite()
        let topics = TopicBuilder(site: site)
        let observer = try await connectedClient()
        let meter = try await observer.subscribe(topics.meterState("pac2200_1"), qos: .atLeastOnce)
        let charger = try await observer.subscribe(topics.chargePointState("alfen_2"), qos: .atLeastOnce)
        let demo = try await observer.subscribe(topics.meterState("grid"), qos: .atLeastOnce)
        let gateway = try ChildProcess(gatewayPath, [
            "--broker", "mqtt://127.0.0.1:\(brokerPort)", "--site", site, "--log-level", "warning",
            "--modbus", "tcp://127.0.0.1:\(port)", "--device", "pac2200:1", "--device", "alfen:2",
        ])
        let meterState = try #require(await meter.next(timeout: .seconds(15)))
        #expect(try ReadingPayload.decode(meterState.payload).values[.voltage.phase(1)]?.number != nil)
        let chargerState = try ChargePointStatePayload.decode(try #require(await charger.next(timeout: .seconds(15))).payload)
        #expect(chargerState.online && chargerState.maxCurrent == 32)
        // With devices configured, the demo meter is not running.
        #expect(await demo.next(timeout: .milliseconds(300)) == nil)
        #expect(await gateway.terminate() == 0)
        await observer.shutdown()
    }

    @Test func aDeviceWithoutItsBusIsAUsageError() async throws {
        let gatewayPath = Self.binDirectory.appendingPathComponent("phasor-gateway").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString).txt").path
        let gateway = try ChildProcess(gatewayPath, ["--device", "sdm630:1"], outputFile: out)
        let status = await gateway.waitForExit(timeout: .seconds(10))
        #expect(status == 64)
        #expect((try? String(contentsOfFile: out, encoding: .utf8))?.contains("name its bus first with --modbus") == true)
    }

    @Test func quickStartOverRTUPollsAMeterOnAPty() async throws {
        let gatewayPath = Self.binDirectory.appendingPathComponent("phasor-gateway").path
        let pair = try await SocatPTYPair.start()
        let simulator = ModbusSimulator()
        try simulator.add(try profile("eastron_sdm630"), unitID: 1)
        try simulator.startRTU(device: pair.second)
        let brokerPort = try await SharedBroker.port()
        let topics = TopicBuilder(site: uniqueSite())
        let observer = try await connectedClient()
        let meter = try await observer.subscribe(topics.meterState("sdm630_1"), qos: .atLeastOnce)
        let availability = try await observer.subscribe(topics.deviceAvailability("sdm630_1"), qos: .atLeastOnce)
        let gateway = try ChildProcess(gatewayPath, [
            "--broker", "mqtt://127.0.0.1:\(brokerPort)", "--site", topics.site, "--log-level", "warning",
            "--modbus", "rtu://\(pair.first)?baud=9600&parity=N", "--device", "sdm630:1",
        ])
        let state = try ReadingPayload.decode(try #require(await meter.next(timeout: .seconds(15))).payload)
        let model = simulator.values(unitID: 1)
        let frequency = try #require(state.values[.frequency]?.number)
        #expect(abs(frequency - (model[.frequency] ?? 0)) < 0.01)
        #expect(await availability.next()?.string == "online")
        #expect(await gateway.terminate() == 0)
        simulator.stop()
        await pair.stop()
        await observer.shutdown()
    }
}

