import DeviceSimulators
import Foundation
import MeterIO
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// Issue 9, defect 7: one failing optional input (an S0 meter's missing GPIO chip,
/// a busy P1 split port) used to stop the whole gateway (exit 1, a raw
/// `ServiceGroupError`), and the charger fallback and watchdog with it. Now each
/// fails alone: reported offline, retried, the rest keeps running.
@Suite(.endToEnd) struct OptionalInputTests {
    @Test func aMissingGPIOChipAndABusySplitPortFailAloneAndAreRetried() async throws {
        let (port, site, topics, folder) = try await Self.setUp()
        defer { try? FileManager.default.removeItem(at: folder) }
        let dongle = try makeDongle()
        defer { dongle.stop() }
        let squatter = try makeDongle()  // holds the split port, as another program would
        let simulator = ModbusSimulator()
        try simulator.add(try #require(ProfileLibrary.load()["alfen_eve"]), unitID: 1)
        simulator.updateCharger(unitID: 1) { $0.vehicle = .init(phases: 3, maxCurrent: 16) }
        let modbusPort = try simulator.startTCP()
        defer { simulator.stop() }
        let file = folder.appendingPathComponent("site.yaml").path
        try """
            site: \(site)
            broker: {url: "mqtt://127.0.0.1:\(port)"}
            meters:
              - {id: grid, type: p1, source: "tcp://127.0.0.1:\(dongle.port)", split_port: \(squatter.port)}
            modbus:
              devices:
                - {id: cp1, profile: alfen_eve, host: 127.0.0.1, port: \(modbusPort), unit_id: 1}
            pulses:
              state_folder: \(folder.appendingPathComponent("pulses").path)
              inputs:
                - {id: gas, gpio: /dev/gpiochip-absent-\(UUID().uuidString.prefix(6)), line: 27, pulses_per_unit: 100, unit: m3}

            """.write(toFile: file, atomically: true, encoding: .utf8)
        let watcher = try await connectedClient(port: port)
        let inbox = Inbox(try await watcher.subscribe(topics.all, qos: .atLeastOnce))
        let log = folder.appendingPathComponent("gateway.log").path
        let gateway = try ChildProcess(BuiltExecutables.path("phasor-gateway"), ["--config", file, "--log-level", "info"],
                                       outputFile: log)
        defer { gateway.terminateBlocking() }
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        // The S0 input is offline, and stays so (it is retried, not fatal).
        let gas = await inbox.next(on: topics.deviceAvailability("gas"), timeout: .seconds(30))
        #expect(gas?.string == "offline", "gas availability; log:\n\(logText())")
        #expect(try await retainedMessage(topics.deviceAvailability("gas"))?.string == "offline", "retained")
        #expect(await eventually { logText().components(separatedBy: "pulse input offline").count > 2 }, "retried:\n\(logText())")

        // Everything else runs: the P1 meter is read though its split port is busy…
        #expect(await waitForClients(dongle))
        dongle.broadcast(try Fixtures.bytes("dsmr5-belgium-fluvius-v171-dsmrparser.txt"))
        let state = await inbox.next(on: topics.meterState("grid"))
        #expect(state.flatMap { try? ReadingPayload.decode($0.payload).values.number("energy_import_t2") } == 15.758)
        // …the charge point reports and takes setpoints.
        let charger = await inbox.next(on: topics.chargePointState("cp1")) { m in
            (try? ChargePointStatePayload.decode(m.payload))?.online == true
        }
        #expect(charger != nil, "cp1 online; log:\n\(logText())")
        try watcher.publish(MQTTMessage(
            topic: topics.chargePointSetpoint("cp1"),
            payload: SetpointPayload(current: 10, phases: 3, sequence: 1, time: Date(), reason: "test").encode(),
            qos: .atLeastOnce))
        #expect(await eventually { simulator.charger(unitID: 1)?.setpoint == 10 }, "setpoint written; log:\n\(logText())")

        // The split port frees up: the gateway listens on it within its retry delay.
        squatter.stop()
        #expect(await eventually(timeout: .seconds(20)) { Loopback.isListening(port: squatter.port) }, "split retried; log:\n\(logText())")
        #expect(gateway.isRunning, "log:\n\(logText())")
        #expect(await gateway.terminate() == 0)
        await watcher.shutdown()
    }

    /// A pulse counter that cannot be kept (its state folder cannot be created: here a
    /// path under a regular file; on a box, /var/lib/phasor for a non-root user) is one
    /// more optional input: offline, retried, the meters still read.
    @Test func aPulseCounterThatCannotBeKeptFailsAlone() async throws {
        let (port, site, topics, folder) = try await Self.setUp()
        defer { try? FileManager.default.removeItem(at: folder) }
        let blocker = folder.appendingPathComponent("not-a-folder")
        try "x".write(to: blocker, atomically: true, encoding: .utf8)
        let dongle = try makeDongle()
        defer { dongle.stop() }
        let file = folder.appendingPathComponent("site.yaml").path
        try """
            site: \(site)
            broker: {url: "mqtt://127.0.0.1:\(port)"}
            meters:
              - {id: grid, type: p1, source: "tcp://127.0.0.1:\(dongle.port)"}
            pulses:
              state_folder: \(blocker.appendingPathComponent("pulses").path)
              inputs:
                - {id: water, gpio: /dev/gpiochip0, line: 3, pulses_per_unit: 1, unit: l}

            """.write(toFile: file, atomically: true, encoding: .utf8)
        let watcher = try await connectedClient(port: port)
        let inbox = Inbox(try await watcher.subscribe(topics.all, qos: .atLeastOnce))
        let log = folder.appendingPathComponent("gateway.log").path
        let gateway = try ChildProcess(BuiltExecutables.path("phasor-gateway"), ["--config", file], outputFile: log)
        defer { gateway.terminateBlocking() }
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(await inbox.next(on: topics.deviceAvailability("water"))?.string == "offline", "log:\n\(logText())")
        #expect(await waitForClients(dongle))
        dongle.broadcast(try Fixtures.bytes("dsmr5-belgium-fluvius-v171-dsmrparser.txt"))
        #expect(await inbox.next(on: topics.meterState("grid")) != nil, "log:\n\(logText())")
        #expect(logText().contains("pulse input offline: its counter cannot be kept"))
        #expect(await gateway.terminate() == 0, "log:\n\(logText())")
        await watcher.shutdown()
    }

    /// The shared broker's port, a fresh site and its topics, a new folder (the caller removes it).
    static func setUp(_ name: String = #function) async throws -> (port: Int, site: String, topics: TopicBuilder, folder: URL) {
        let site = uniqueSite(name)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("optional-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return (try await SharedBroker.port(), site, TopicBuilder(site: site), folder)
    }
}
