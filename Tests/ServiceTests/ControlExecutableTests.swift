import Foundation
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// The real phasor-control executable, configured by a site file, on the real
/// clock: decides from the gateway's retained states and survives a restart.
@Suite(.endToEnd) struct ControlExecutableTests {
    @Test func decidesFromRetainedGatewayStatesAndKeepsOperatorSettingsAcrossARestart() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let topics = TopicBuilder(site: site)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("control-exe-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("site.yaml").path
        // The harness's tree (cp2 never reports: it is budgeted at its safe current).
        let control = ControlHarness.siteYAML.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n")
        try "site: \(site)\ncontrol:\n\(control)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let stateDir = dir.appendingPathComponent("state").path
        let args = ["--config", config, "--broker", "mqtt://127.0.0.1:\(port)", "--state-dir", stateDir, "--log-level", "warning"]

        // The gateway's retained states are there before control starts.
        let peer = try makeClient(port: port)
        try await peer.connect()
        let now = Date()
        let charger = ChargePointStatePayload(id: "cp1", time: now, online: true, status: .connected, currents: [0, 0, 0])
        try peer.publish(MQTTMessage(topic: topics.chargePointState("cp1"), payload: charger.encode(), qos: .atLeastOnce, retain: true))
        var reading = Reading(device: "grid", time: MeterTimestamp(date: now, utcOffsetSeconds: 3600))
        for phase in 1...3 {
            reading.set(Quantity.current.phase(phase), 2)
            reading.set(Quantity.power.phase(phase), 460)
        }
        reading.set(.power, 1380)
        try peer.publish(MQTTMessage(topic: topics.meterState("grid"), payload: ReadingPayload.encode(reading), qos: .atLeastOnce, retain: true))
        let setpoints = try await peer.subscribe(topics.chargePointSetpoint("cp1"), qos: .atLeastOnce)
        let states = try await peer.subscribe(topics.controlState, qos: .atLeastOnce)

        let first = try ChildProcess(executable("phasor-control"), args)
        let setpoint = try #require(await next(setpoints).flatMap { try? SetpointPayload.decode($0.payload) })
        #expect(setpoint.current == 12, "20 A − 2 A house − 6 A for cp2")
        #expect(setpoint.reason == "shared evenly under the L1 limit of 'main'")
        try peer.publish(MQTTMessage(topic: topics.controlSet("slider"), string: "7.5", qos: .atLeastOnce))
        let changed = try #require(await states.nextState { $0.sliderKW == 7.5 })
        if let result = try await validate([changed.bytes], against: "control-state.schema.json") {
            #expect(result.status == 0, "\(result.output)")
        }
        first.signal(SIGTERM)
        #expect(await first.waitForExit() == 0)
        let saved = try String(contentsOfFile: "\(stateDir)/control-\(site).json", encoding: .utf8)
        #expect(saved.contains("\"sliderKW\":7.5"), "\(saved.prefix(300))")

        // A new process: its first decision already has the operator's slider. (Its
        // sequence numbers start at its start time in ms, above the first one's.)
        let restartedAt = Int(Date().timeIntervalSince1970 * 1000)
        let second = try ChildProcess(executable("phasor-control"), args)
        let restored = try #require(await states.nextState { $0.sequence >= restartedAt })
        #expect(restored.sliderKW == 7.5)
        second.signal(SIGTERM)
        #expect(await second.waitForExit() == 0)
        for topic in [topics.chargePointState("cp1"), topics.meterState("grid"), topics.controlState, topics.chargePointSetpoint("cp1")] {
            try peer.publish(MQTTMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true))
        }
        await peer.shutdown()
    }
}
