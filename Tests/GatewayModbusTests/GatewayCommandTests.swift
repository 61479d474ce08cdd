import DeviceSimulators
import Foundation
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// Commands and setpoints against the real phasor-gateway executable on a real
/// broker, with a simulated charger whose coil 400 serves as a relay output:
/// retained relay commands refused on both MQTT versions, a setpoint of 0 A
/// applied, refusals that quote only a short excerpt.
@Suite(.endToEnd) struct GatewayCommandTests {
    struct Running {
        let topics: TopicBuilder
        let run: RunningExecutable
        let simulator: ModbusSimulator
        let modbusPort: Int
        let relayStates: MQTTSubscription
        let errors: MQTTSubscription
        let applied: MQTTSubscription
        var peer: MQTTClient { run.peer }

        /// Stops the gateway and the simulator, cleans up, and returns the gateway's log.
        @discardableResult
        func stop() async -> String {
            let (status, log) = await run.stop()
            #expect(status == 0)
            simulator.stop()
            return log
        }

        func coilIsOn() async throws -> Bool {
            let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: modbusPort), options: fastOptions)
            defer { Task { await bus.close() } }
            return try await bus.readBits(.coils, address: 400, count: 1, target: BusTarget(unitID: 1)) == [true]
        }
    }

    static func start(version: String, before: (TopicBuilder, MQTTClient) async throws -> Void = { _, _ in }) async throws -> Running {
        let simulator = ModbusSimulator()
        try simulator.add(try profile("phoenix_ev_eth"), unitID: 1)
        let modbusPort = try simulator.startTCP()
        let brokerPort = try await SharedBroker.port()
        let topics = TopicBuilder(site: uniqueSite())
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gw-cmd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("site.yaml").path
        try """
            site: \(topics.site)
            modbus:
              devices:
                - {id: io, profile: phoenix_ev_eth, host: 127.0.0.1, port: \(modbusPort), unit_id: 1}
              relays:
                - {id: contactor, device: io, coil: 400, default: "off"}

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let peer = try await connectedClient()
        try await before(topics, peer)
        let relayStates = try await peer.subscribe(topics.relayState("contactor"), qos: .atLeastOnce)
        let errors = try await peer.subscribe(topics.error(.gateway), qos: .atLeastOnce)
        let applied = try await peer.subscribe(topics.chargePointApplied("io"), qos: .atLeastOnce)
        let charger = try await peer.subscribe(topics.chargePointState("io"), qos: .atLeastOnce)
        let log = dir.appendingPathComponent("gateway.log").path
        let gateway = try ChildProcess(BuiltExecutables.path("phasor-gateway"), [
            "--config", config, "--broker", "mqtt://127.0.0.1:\(brokerPort)", "--mqtt-version", version, "--log-level", "notice",
        ], outputFile: log)
        // The charger answers: the gateway polls it and has subscribed to its setpoints.
        _ = try #require(await charger.next(timeout: .seconds(15)), "the gateway published no charger state")
        charger.cancel()
        let retained = [topics.relayCommand("contactor"), topics.relayState("contactor"), topics.chargePointState("io"),
                        topics.chargePointApplied("io"), topics.deviceAvailability("io"), topics.deviceStats("io")]
        return Running(topics: topics, run: RunningExecutable(process: gateway, peer: peer, folder: dir, log: log, retainedTopics: retained),
                       simulator: simulator, modbusPort: modbusPort, relayStates: relayStates, errors: errors, applied: applied)
    }

    /// Defect 10: a retained relay command does not replay at the gateway's start
    /// (it used to switch the relay on 1 ms after its default), on both versions.
    @Test(arguments: ["5", "3.1.1"])
    func aRetainedRelayCommandDoesNotReplayAtStart(version: String) async throws {
        let running = try await Self.start(version: version) { topics, peer in
            try peer.publish(MQTTMessage(topic: topics.relayCommand("contactor"), string: "on", qos: .atLeastOnce, retain: true))
        }
        let refusal = try json(await running.errors.next(where: { $0.string.contains("\"field\":\"retain\"") }))
        #expect((refusal["reason"] as? String ?? "").contains("retained commands are refused"))
        #expect(refusal["topic"] as? String == running.topics.relayCommand("contactor"))
        #expect(try await running.coilIsOn() == false)
        let first = try json(await running.relayStates.next())
        #expect(first["source"] as? String == "default" && first["on"] as? Bool == false)
        // The next state is a live command's, not the retained `on`.
        try running.peer.publish(MQTTMessage(topic: running.topics.relayCommand("contactor"), payload: [], qos: .atLeastOnce, retain: true))
        try running.peer.publish(MQTTMessage(topic: running.topics.relayCommand("contactor"), string: "off", qos: .atLeastOnce))
        let second = try json(await running.relayStates.next())
        #expect(second["source"] as? String == "command" && second["on"] as? Bool == false, "\(second)")
        await running.stop()
    }

    /// A relay command published retained while the gateway runs is refused at once
    /// and not applied, on both versions; a live one right after is applied.
    @Test(arguments: ["5", "3.1.1"])
    func aRelayCommandPublishedRetainedLiveIsRefused(version: String) async throws {
        let running = try await Self.start(version: version)
        _ = await running.relayStates.next()  // the default
        let topic = running.topics.relayCommand("contactor")
        try running.peer.publish(MQTTMessage(topic: topic, string: "on", qos: .atLeastOnce, retain: true))
        let refusal = try json(await running.errors.next())
        #expect(refusal["field"] as? String == "retain")
        #expect(try await running.coilIsOn() == false)
        try running.peer.publish(MQTTMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true))
        try running.peer.publish(MQTTMessage(topic: topic, string: "on", qos: .atLeastOnce))
        let on = try json(await running.relayStates.next())
        #expect(on["source"] as? String == "command" && on["on"] as? Bool == true, "\(on)")
        #expect(try await running.coilIsOn())
        #expect(await running.errors.next(timeout: .milliseconds(300)) == nil, "a refusal too many")
        await running.stop()
    }

    /// Defect 9 at the gateway: `current: 0` (pause) is a number and is written; `true` is not.
    @Test func aSetpointOfZeroAmperesIsApplied() async throws {
        let running = try await Self.start(version: "5")
        let setpoint = running.topics.chargePointSetpoint("io")
        try running.peer.publish(MQTTMessage(topic: setpoint, string: #"{"current": 10, "sequence": 1}"#, qos: .atLeastOnce))
        #expect(try json(await running.applied.next())["result"] as? String == "applied")
        for (text, sequence) in [(#"{"current": 0, "sequence": 2}"#, 2), (#"{"current": 0.0, "sequence": 3}"#, 3), ("0", nil)] {
            try running.peer.publish(MQTTMessage(topic: setpoint, string: text, qos: .atLeastOnce))
            let applied = try json(await running.applied.next())
            #expect(applied["result"] as? String == "applied" && (applied["current"] as? NSNumber)?.doubleValue == 0, "\(text): \(applied)")
            #expect(applied["sequence"] as? Int == sequence)
        }
        try running.peer.publish(MQTTMessage(topic: setpoint, string: #"{"current": 1}"#, qos: .atLeastOnce))
        #expect((try json(await running.errors.next())["reason"] as? String ?? "").contains("below this charger's minimum"))
        try running.peer.publish(MQTTMessage(topic: setpoint, string: #"{"current": true}"#, qos: .atLeastOnce))
        #expect((try json(await running.errors.next())["reason"] as? String ?? "").contains("must be a number"))
        await running.stop()
    }

    /// Defect 8 at the gateway: a 1 MB relay command or setpoint gives a short refusal
    /// and short log lines.
    @Test func hugeRelayCommandsAndSetpointsAreRefusedWithAShortExcerpt() async throws {
        let running = try await Self.start(version: "5")
        // The relay's default state comes once its service has subscribed to its commands (they
        // are never retained: one published before that is not delivered; seen once in CI).
        _ = try #require(await running.relayStates.next(timeout: .seconds(15)), "the relay's default state")
        let megabyte = Array(String(repeating: "€", count: 350_000).utf8)  // 3-byte scalars
        let cases: [(String, [UInt8])] = [
            (running.topics.relayCommand("contactor"), megabyte),
            (running.topics.relayCommand("contactor"), Array(#"{"on": true, ""#.utf8) + megabyte + Array(#"": 1}"#.utf8)),
            (running.topics.chargePointSetpoint("io"), megabyte),
            (running.topics.chargePointSetpoint("io"), Array(#"{"current": 6, ""#.utf8) + megabyte + Array(#"": 1}"#.utf8)),
        ]
        for (topic, payload) in cases {
            try running.peer.publish(MQTTMessage(topic: topic, payload: payload, qos: .atLeastOnce))
            // A megabyte through the broker and a debug build's JSON decoder, on a loaded CI
            // machine: more than the usual 10 s (it once took longer in the whole suite).
            let error = try #require(await running.errors.next(timeout: .seconds(40)), "no refusal on \(topic)")
            #expect(error.payload.count < 1024, "\(error.payload.count) bytes of refusal")
            let object = try json(error)
            let reason = object["reason"] as? String ?? ""
            let quoted = object["payload"] as? String ?? ""
            #expect(reason.utf8.count <= 256 && quoted.utf8.count <= 160 && quoted.hasSuffix(" bytes)"), "\(reason) / \(quoted)")
            #expect(!reason.contains("\u{FFFD}") && !quoted.contains("\u{FFFD}"), "a cut split a character")
        }
        let applied = try json(await running.applied.next(where: { $0.string.contains("refused") }))
        #expect((applied["reason"] as? String ?? "").utf8.count < 400)
        // A valid setpoint with a huge reason is applied; `applied` repeats an excerpt.
        let reason = String(repeating: "€", count: 350_000)
        try running.peer.publish(MQTTMessage(topic: running.topics.chargePointSetpoint("io"),
                                             string: #"{"current": 8, "reason": "\#(reason)"}"#, qos: .atLeastOnce))
        let written = try json(await running.applied.next(where: { $0.string.contains(#""result":"applied""#) }))
        let repeated = written["reason"] as? String ?? ""
        #expect(repeated.utf8.count < 300 && repeated.hasSuffix(" bytes)"), "\(repeated.prefix(80))")
        let log = await running.stop()
        #expect((log.split(separator: "\n").map(\.utf8.count).max() ?? 0) < 2048)
        #expect(log.contains("relay command refused") && log.contains("setpoint refused"))
    }
}
