import Bridge
import BridgeCore
import BridgeOutbox
import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// A meter state as the gateway publishes it, at an injected source time.
func meterState(_ t: TimeInterval, power: Double, energy: Double, device: String = "m1") -> [UInt8] {
    Array(#"{"device":"\#(device)","time":"\#(ISO8601.format(Date(timeIntervalSince1970: t), utcOffsetSeconds: 0))","power_import":\#(JSONWriter.format(power)),"energy_import":\#(JSONWriter.format(energy)),"tariff":"1","valid":true}"#.utf8)
}

func object(_ bytes: [UInt8]) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
}

/// A quarter-hour boundary (2026-11-30 12:00:00 UTC).
let quarter: TimeInterval = 1_796_040_000

@Suite("Bridge aggregation", .endToEnd) struct AggregationTests {
    let rule = AggregateRule(topic: "meter/+/state", averageS: 10, energyS: 900)

    func aggregator(_ rules: [AggregateRule]? = nil, state: Aggregator.State = .init()) throws -> Aggregator {
        try Aggregator(root: "phasor/home", rules: rules ?? [rule], state: state)
    }

    /// 1 s power → 10 s averages: mean, min and max of the power; the energy register
    /// is never averaged (its last value, under `registers`); texts and booleans skipped.
    @Test func oneSecondPowerBecomesTenSecondAverages() throws {
        var a = try aggregator([AggregateRule(topic: "meter/+/state", averageS: 10)])
        var out: [AggregateOutput] = []
        for i in 0..<25 {
            out += try a.ingest(stream: "meter/m1/state", rule: a.match(topic: "phasor/home/meter/m1/state")!.rule,
                                payload: meterState(quarter + Double(i), power: Double(1000 + i), energy: 100 + Double(i) * 0.001))
        }
        #expect(out.map(\.stream) == ["meter/m1/state/avg_10s", "meter/m1/state/avg_10s"])
        #expect(out.allSatisfy { $0.messageClass == .instantaneous })
        let first = object(out[0].payload)
        #expect(first["samples"] as? Int == 10)
        #expect(first["from"] as? String == "2026-11-30T12:00:00Z")
        #expect(first["to"] as? String == "2026-11-30T12:00:10Z")
        #expect(first["device"] as? String == "m1")
        #expect((first["mean"] as? [String: Any])?["power_import"] as? Double == 1004.5)
        #expect((first["min"] as? [String: Any])?["power_import"] as? Double == 1000)
        #expect((first["max"] as? [String: Any])?["power_import"] as? Double == 1009)
        #expect((first["mean"] as? [String: Any])?["energy_import"] == nil, "a register is never averaged")
        #expect((first["mean"] as? [String: Any])?["valid"] == nil, "a boolean is not a quantity")
        #expect((first["registers"] as? [String: Any])?["energy_import"] as? Double == 100.009)
        #expect(out[0].sourceTime == Date(timeIntervalSince1970: quarter + 10))
        #expect((object(out[1].payload)["mean"] as? [String: Any])?["power_import"] as? Double == 1014.5)
    }

    /// 15-minute energy: each register at the quarter boundaries (the last reading at or
    /// before each) and the delta; the deltas chain, so their sum is the register's
    /// whole advance — exact, never averaged.
    @Test func fifteenMinuteEnergyIsRegisterDeltasChainedAcrossBoundaries() throws {
        var a = try aggregator([AggregateRule(topic: "meter/+/state", energyS: 900)])
        var out: [AggregateOutput] = []
        // A reading every 60 s from 12:00:30 to 12:44:30, +0.1 kWh each.
        for k in 0..<45 {
            out += try a.ingest(stream: "meter/m1/state", rule: a.match(topic: "phasor/home/meter/m1/state")!.rule,
                                payload: meterState(quarter + 30 + Double(k) * 60, power: 6000, energy: 1000 + Double(k) * 0.1))
        }
        #expect(out.map(\.stream) == ["meter/m1/state/energy_900s", "meter/m1/state/energy_900s"])
        #expect(out.allSatisfy { $0.messageClass == .energy })
        let first = object(out[0].payload)
        let second = object(out[1].payload)
        // The first quarter after the aggregator began starts at its first reading: not complete.
        #expect(first["complete"] as? Bool == false)
        #expect((first["start"] as? [String: Any])?["time"] as? String == "2026-11-30T12:00:30Z")
        #expect((first["end"] as? [String: Any])?["time"] as? String == "2026-11-30T12:14:30Z")
        #expect((first["delta"] as? [String: Any])?["energy_import"] as? Double == 1.4)
        #expect(second["complete"] as? Bool == true)
        #expect(second["from"] as? String == "2026-11-30T12:15:00Z")
        #expect((second["start"] as? [String: Any])?["energy_import"] as? Double == 1001.4)
        #expect((second["end"] as? [String: Any])?["energy_import"] as? Double == 1002.9)
        #expect((second["delta"] as? [String: Any])?["energy_import"] as? Double == 1.5)
        #expect((second["delta"] as? [String: Any])?["power_import"] == nil, "only registers")
    }

    /// The state survives a restart (the intake saves it with the readings): an
    /// aggregator rebuilt from the encoded state mid-window produces what an
    /// uninterrupted one does.
    @Test func aRestoredStateGoesOnAsIfNeverInterrupted() throws {
        func feed(_ a: inout Aggregator, _ range: Range<Int>) throws -> [AggregateOutput] {
            try range.flatMap { i in
                try a.ingest(stream: "meter/m1/state", rule: rule,
                             payload: meterState(quarter - 600 + Double(i) * 7, power: Double(i % 13), energy: 50 + Double(i) * 0.01))
            }
        }
        var whole = try aggregator()
        let expected = try feed(&whole, 0..<200)
        var before = try aggregator()
        var got = try feed(&before, 0..<97)
        let saved = try JSONEncoder().encode(before.state)
        var after = try aggregator(state: try JSONDecoder().decode(Aggregator.State.self, from: saved))
        got += try feed(&after, 97..<200)
        #expect(got == expected)
        #expect(expected.count > 10)
    }

    /// A meter that stops still gets its last window out once other streams are a
    /// window (and a minute) past it; a reading that comes after that is counted late,
    /// never mixed into a window already sent.
    @Test func aStoppedStreamsWindowClosesWhenOthersMoveOnAndLateReadingsAreCounted() throws {
        var a = try aggregator([AggregateRule(topic: "meter/+/state", averageS: 10)])
        let r = a.match(topic: "phasor/home/meter/m1/state")!.rule
        _ = try a.ingest(stream: "meter/m1/state", rule: r, payload: meterState(quarter + 1, power: 5, energy: 1))
        var out: [AggregateOutput] = []
        for i in 0..<80 {
            out += try a.ingest(stream: "meter/m2/state", rule: r, payload: meterState(quarter + Double(i), power: 1, energy: 1, device: "m2"))
            out += a.sweep()
        }
        let m1 = out.filter { $0.stream == "meter/m1/state/avg_10s" }
        #expect(m1.count == 1)
        #expect(object(m1[0].payload)["samples"] as? Int == 1)
        // Late: a reading of the window already sent.
        _ = try a.ingest(stream: "meter/m1/state", rule: r, payload: meterState(quarter + 2, power: 7, energy: 1))
        _ = try a.ingest(stream: "meter/m1/state", rule: r, payload: meterState(quarter + 100, power: 9, energy: 1))
        let next = try a.ingest(stream: "meter/m1/state", rule: r, payload: meterState(quarter + 110, power: 9, energy: 1))
        #expect(object(next[0].payload)["late"] as? Int == 1)
        #expect(object(next[0].payload)["samples"] as? Int == 1)
    }

    @Test func anUnreadablePayloadIsRefusedWithAReason() throws {
        var a = try aggregator()
        #expect(throws: Aggregator.IngestError.unreadable("not a JSON object")) {
            try a.ingest(stream: "meter/m1/state", rule: rule, payload: Array("12.5".utf8))
        }
        #expect(throws: Aggregator.IngestError.self) {
            try a.ingest(stream: "meter/m1/state", rule: rule, payload: Array(#"{"power":1}"#.utf8))
        }
        #expect(AggregateRule(topic: "x", energyS: 700).windowProblem?.field == "energy_s")
        #expect(AggregateRule(topic: "x").windowProblem?.field == "average_s")
        #expect(AggregateRule(topic: "x", averageS: 10, energyS: 3600).windowProblem == nil)
    }

    /// Through the real intake and a real mosquitto: the readings feed the aggregates
    /// only (no raw rows), the aggregate streams are numbered 1, 2, … in the outbox like
    /// any stream, and an intake stopped mid-window and started again on the same
    /// outbox goes on with the window's readings from before the stop.
    @Test(.timeLimit(.minutes(2))) func theIntakeStoresNumberedAggregatesAndKeepsAWindowAcrossARestart() async throws {
        let broker = try await MosquittoBroker.start()
        defer { Task { await broker.stop() } }
        var logger = Logger(label: "aggregation-test")
        logger.logLevel = .critical
        let site = "agg\(UUID().uuidString.prefix(4))"
        let topics = TopicBuilder(site: site)
        let outbox = try Outbox(settings: OutboxSettings(path: temporaryOutboxPath(), maxBytes: 1 << 30))
        let mqtt = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "bridge-\(site)",
                                     reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200)))
        let publisher = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "pub-\(site)"),
                                       logger: logger)
        try await publisher.connect()
        let classifier = try StreamClassifier(root: topics.root, rules: ForwardRule.defaults)
        func startIntake() async throws -> (OutboxIntakeService, Task<Void, any Error>) {
            let intake = try OutboxIntakeService(siteMQTT: mqtt, classifier: classifier, aggregates: [rule], outbox: outbox,
                                                 alerts: publisher, topics: topics, logger: logger)
            let task = Task { try await intake.run() }
            #expect(await eventually(timeout: .seconds(30)) { intake.isSubscribed })
            return (intake, task)
        }
        func publish(_ seconds: ClosedRange<Int>) async throws {
            for i in seconds {
                try await publisher.publishAndWait(MQTTMessage(
                    topic: "\(topics.root)/meter/m1/state", payload: meterState(quarter - 20 + Double(i), power: Double(i), energy: 10 + Double(i) * 0.001),
                    qos: .atLeastOnce))
            }
        }
        func rows(_ stream: String) throws -> [OutboxRecord] {
            try outbox.fetch(lane: nil, after: 0, limit: 1000).filter { $0.stream == stream }
        }
        var task = try await startIntake().1
        try await publish(0...24)  // 11:59:40 … 12:00:04
        #expect(await eventually { (try? rows("meter/m1/state/avg_10s").count) == 2 })
        #expect(await eventually { (try? rows("meter/m1/state/energy_900s").count) == 1 })
        task.cancel()
        _ = try? await task.value

        // Started again: the window 12:00:00–12:00:10 had 5 readings before the stop.
        task = try await startIntake().1
        try await publish(25...40)
        #expect(await eventually { (try? rows("meter/m1/state/avg_10s").count) == 4 })
        let averages = try rows("meter/m1/state/avg_10s")
        #expect(averages.map(\.seq) == [1, 2, 3, 4])
        #expect(averages.map { object($0.payload)["samples"] as? Int } == [10, 10, 10, 10])
        #expect(averages.map { (object($0.payload)["mean"] as? [String: Any])?["power_import"] as? Double }
                    == [4.5, 14.5, 24.5, 34.5])
        let energy = try rows("meter/m1/state/energy_900s")
        #expect(energy.map(\.seq) == [1])
        #expect(energy.first?.messageClass == .energy)
        #expect((object(energy[0].payload)["end"] as? [String: Any])?["energy_import"] as? Double == 10.02)
        #expect(try rows("meter/m1/state").isEmpty, "raw readings are not forwarded without raw: true")
        task.cancel()
        _ = try? await task.value
        await publisher.shutdown()
    }

    /// The real phasor-bridge with an `aggregate:` line in its site file, between two
    /// real mosquittos: the cloud receives the averages and the quarter-hour energy as
    /// numbered envelopes and, with `raw: true`, the readings too; the site file is
    /// valid against schemas/config.schema.json.
    @Test(.timeLimit(.minutes(2))) func theBridgeForwardsAggregatesToTheCloud() async throws {
        let rig = try await BridgeRig()
        defer { Task { await rig.shutdown() } }
        try rig.writeSite(extra: """
              aggregate:
                - {topic: meter/+/state, average_s: 10, energy_s: 900}
                - {topic: chargepoint/+/state, average_s: 60, raw: true}
            """)
        if let result = try await SchemaValidation.validate([try [UInt8](Data(contentsOf: URL(fileURLWithPath: rig.siteFile)))],
                                                            against: "config.schema.json", repositoryRoot: repositoryRoot,
                                                            fileExtension: "yaml") {
            #expect(result.status == 0, "\(result.output)")
        }
        try await rig.subscribeCloud()
        try rig.startBridge()
        #expect(await rig.waitForIntake())
        let pub = try await rig.localClient()
        for i in 0...30 {
            try await pub.publishAndWait(MQTTMessage(topic: "phasor/\(rig.site)/meter/m1/state",
                                                     payload: meterState(quarter - 10 + Double(i), power: Double(i), energy: 5 + Double(i)),
                                                     qos: .atLeastOnce))
        }
        try await pub.publishAndWait(MQTTMessage(topic: "phasor/\(rig.site)/chargepoint/c1/state",
                                                 payload: meterState(quarter, power: 1, energy: 1, device: "c1"), qos: .atLeastOnce))
        #expect(await eventually(timeout: .seconds(30)) {
            rig.envelopes.filter { $0.stream == "meter/m1/state/avg_10s" }.count >= 3
                && rig.envelopes.contains { $0.stream == "meter/m1/state/energy_900s" }
                && rig.envelopes.contains { $0.stream == "chargepoint/c1/state" }
        })
        let averages = rig.envelopes.filter { $0.stream == "meter/m1/state/avg_10s" }
        #expect(averages.map(\.seq).prefix(3) == [1, 2, 3])
        #expect(averages.first?.topic == "phasor/\(rig.site)/v1/up/meter/m1/state/avg_10s")
        #expect(averages.compactMap { ($0.payload?["mean"] as? [String: Any])?["power_import"] as? Double }.prefix(3) == [4.5, 14.5, 24.5])
        let energy = try #require(rig.envelopes.first { $0.stream == "meter/m1/state/energy_900s" })
        #expect(energy.seq == 1)
        #expect((energy.payload?["delta"] as? [String: Any])?["energy_import"] as? Double == 10)
        #expect(!rig.envelopes.contains { $0.stream == "meter/m1/state" }, "without raw: true the readings stay on the site")
        for (schema, stream) in [("cloud-average.schema.json", "meter/m1/state/avg_10s"), ("cloud-energy.schema.json", "meter/m1/state/energy_900s")] {
            let payloads = try rig.envelopes.filter { $0.stream == stream }.map {
                try [UInt8](JSONSerialization.data(withJSONObject: try #require($0.payload)))
            }
            if let result = try await SchemaValidation.validate(payloads, against: schema, repositoryRoot: repositoryRoot) {
                #expect(result.status == 0, "\(result.output)")
            }
        }
        await pub.shutdown()
    }
}
