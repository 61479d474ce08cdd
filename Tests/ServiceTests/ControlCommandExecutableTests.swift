import Foundation
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// Operator commands against the real phasor-control executable on a real broker,
/// over both MQTT versions: retained commands refused, every number a number,
/// refusals (and log lines) that quote only a short excerpt of what was sent.
@Suite(.endToEnd) struct ControlCommandExecutableTests {
    /// A running phasor-control for the harness's site tree, with an operator client.
    struct Running {
        let topics: TopicBuilder
        let run: RunningExecutable
        let errors: MQTTSubscription
        let states: MQTTSubscription
        var peer: MQTTClient { run.peer }

        /// Stops control, cleans up, and returns its log.
        @discardableResult
        func stop() async -> String {
            let (status, log) = await run.stop()
            #expect(status == 0)
            return log
        }

        func send(_ path: String, _ payload: [UInt8], retain: Bool = false) throws {
            try peer.publish(MQTTMessage(topic: topics.controlSet(path), payload: payload, qos: .atLeastOnce, retain: retain))
        }

        func send(_ path: String, _ text: String, retain: Bool = false) throws { try send(path, Array(text.utf8), retain: retain) }
    }

    /// Starts control (`--mqtt-version version`) after `before` ran with the peer connected.
    static func start(version: String, site: String = uniqueSite(), before: (TopicBuilder, MQTTClient) async throws -> Void = { _, _ in })
        async throws -> Running
    {
        let port = try await SharedBroker.port()
        let topics = TopicBuilder(site: site)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("control-cmd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("site.yaml").path
        let tree = ControlHarness.siteYAML.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n")
        try "site: \(site)\ncontrol:\n\(tree)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let peer = try makeClient(port: port)
        try await peer.connect()
        try await before(topics, peer)
        let errors = try await peer.subscribe(topics.error(.control), qos: .atLeastOnce)
        let states = try await peer.subscribe(topics.controlState, qos: .atLeastOnce)
        let log = dir.appendingPathComponent("control.log").path
        let control = try ChildProcess(executable("phasor-control"), [
            "--config", config, "--broker", "mqtt://127.0.0.1:\(port)", "--mqtt-version", version,
            "--state-dir", dir.appendingPathComponent("state").path, "--log-level", "notice",
        ], outputFile: log)
        // Control has subscribed once its first state is out.
        _ = try #require(await states.nextState(timeout: .seconds(15)), "control published no state")
        let retained = [topics.controlState, topics.chargePointSetpoint("cp1"), topics.chargePointSetpoint("cp2")]
        return Running(topics: topics, run: RunningExecutable(process: control, peer: peer, folder: dir, log: log, retainedTopics: retained),
                       errors: errors, states: states)
    }

    /// Defect 10: a retained slider waiting at the broker is refused, not applied,
    /// whatever the protocol version (on 3.1.1 only the broker's retain flag on
    /// delivery at subscribe time tells).
    @Test(arguments: ["5", "3.1.1"])
    func aRetainedCommandWaitingAtStartIsRefused(version: String) async throws {
        let running = try await Self.start(version: version) { topics, peer in
            try peer.publish(MQTTMessage(topic: topics.controlSet("slider"), string: "5", qos: .atLeastOnce, retain: true))
        }
        _ = try await expectRefusal(running.errors, field: "retain", reason: "retained commands are refused")
        // A live command afterwards is applied, and the slider never was 5.
        try running.send("slider", "7.5")
        let applied = try #require(await running.states.nextState { $0.sliderKW != 20 })
        #expect(applied.sliderKW == 7.5)
        try running.send("slider", [], retain: true)  // clears the retained command
        await running.stop()
    }

    /// Defect 10: a command published retained while control runs is refused at once
    /// and not applied: on MQTT 5 by retain-as-published; on MQTT 3.1.1 (where the
    /// broker delivers it live without the flag) by asking the broker for its stored copy.
    @Test(arguments: ["5", "3.1.1"])
    func aCommandPublishedRetainedLiveIsRefused(version: String) async throws {
        let running = try await Self.start(version: version)
        try running.send("slider", "5", retain: true)
        _ = try await expectRefusal(running.errors, field: "retain", reason: "retained commands are refused")
        // Clearing it is no command (no refusal); a live command then applies, and the
        // slider never was 5.
        try running.send("slider", [], retain: true)
        try running.send("slider", "7.5")
        let applied = try #require(await running.states.nextState { $0.sliderKW != 20 })
        #expect(applied.sliderKW == 7.5)
        // A live command on 3.1.1 is not mistaken for a retained one, also right after.
        try running.send("chargepoint/cp1/priority", "3")
        #expect(await running.states.nextState { $0.point("cp1")?["priority"] as? Int == 3 } != nil)
        #expect(await running.errors.next(timeout: .milliseconds(300)) == nil, "a refusal too many")
        await running.stop()
    }

    /// Defect 9: `{"value": 0}` and `{"value": 1}` are numbers (Foundation on Linux
    /// also reads them as Bool); `true` is not.
    @Test(arguments: ["5", "3.1.1"])
    func zeroAndOneAreNumbersAndTrueIsNot(version: String) async throws {
        let running = try await Self.start(version: version)
        try running.send("chargepoint/cp1/priority", #"{"value": 1}"#)
        let one = try #require(await running.states.nextState { $0.point("cp1")?["priority"] as? Int == 1 }, "priority 1 refused")
        #expect(one.point("cp1")?["priority"] as? Int == 1)
        try running.send("chargepoint/cp1/priority", #"{"value": 0}"#)
        try running.send("chargepoint/cp2/priority", #"{"value": 0.0}"#)
        try running.send("chargepoint/cp2/priority", #"{"value": 1}"#)
        #expect(await running.states.nextState {
            $0.point("cp1")?["priority"] as? Int == 0 && $0.point("cp2")?["priority"] as? Int == 1
        } != nil, "priority 0 or 1 refused")
        // The slider's range starts at 2.5 kW: 1 is a number, out of range.
        try running.send("slider", #"{"value": 1}"#)
        _ = try await expectRefusal(running.errors, field: "slider", reason: "outside 2.5…1000 kW")
        try running.send("slider", #"{"value": true}"#)
        _ = try await expectRefusal(running.errors, field: "slider", reason: "'value' must be a number")
        try running.send("chargepoint/cp1/current", #"{"value": false}"#)
        _ = try await expectRefusal(running.errors, field: "current", reason: "'value' must be a number")
        await running.stop()
    }

    /// Defect 8: a 1 MB command gives a refusal of a few hundred bytes that quotes a
    /// marked, valid UTF-8 excerpt, and no long log line.
    @Test func aHugeCommandIsRefusedWithAShortExcerpt() async throws {
        let running = try await Self.start(version: "5")
        let megabyte = Array(String(repeating: "é", count: 512 * 1024).utf8)  // 2-byte scalars: a cut must not split one
        let huge: [(String, [UInt8])] = [
            ("slider", megabyte),
            ("slider", Array(#"{"value": 4, ""#.utf8) + megabyte + Array(#"": 1}"#.utf8)),
            ("chargepoint/cp1/mode", megabyte),
            ("chargepoint/cp1/mode", Array(#"{"value": ""#.utf8) + megabyte + Array(#""}"#.utf8)),
            ("chargepoint/\(String(repeating: "x", count: 60_000))/mode", Array("solar".utf8)),
        ]
        for (path, payload) in huge {
            try running.send(path, payload)
            let error = try #require(await next(running.errors), "no refusal for \(path.prefix(30))")
            #expect(error.payload.count < 1024, "\(error.payload.count) bytes of refusal for \(path.prefix(30))")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(error.payload)) as? [String: Any])
            let reason = try #require(object["reason"] as? String)
            let quoted = try #require(object["payload"] as? String)
            #expect(reason.utf8.count <= 256 && quoted.utf8.count <= 160, "\(reason) / \(quoted)")
            #expect(quoted.hasSuffix(" bytes)") || payload.count < 128, "cut not marked: \(quoted)")
            #expect(!reason.contains("\u{FFFD}") && !quoted.contains("\u{FFFD}"), "a cut split a character: \(reason) / \(quoted)")
        }
        try running.send("slider", "7.5")
        _ = await running.states.nextState { $0.sliderKW == 7.5 }
        let log = await running.stop()
        let longest = log.split(separator: "\n").map(\.utf8.count).max() ?? 0
        #expect(longest < 2048, "a log line of \(longest) bytes")
        #expect(log.contains("command refused"))
    }
}
