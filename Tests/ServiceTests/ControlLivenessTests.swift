import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// Issue 9 against the real phasor-control executable and a real broker:
/// one decision per meter reading (defect 6), the gateway's availability taken
/// at once (defect 11) with the age of a stale meter shown, and a control
/// connection nobody else can take over (defect 4).
@Suite(.endToEnd) struct ControlLivenessTests {
    /// A site file with the harness's tree (20 A main on `grid`, cp1 and cp2).
    static func siteFile(site: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("control-live-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("site.yaml").path
        let control = ControlHarness.siteYAML.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n")
        try "site: \(site)\ncontrol:\n\(control)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func meter(_ currents: [Double], at time: Date, received: Date? = nil) -> [UInt8] {
        var reading = Reading(device: "grid", time: MeterTimestamp(date: time, utcOffsetSeconds: 0))
        for (i, amperes) in currents.enumerated() {
            reading.set(Quantity.current.phase(i + 1), amperes)
            reading.set(Quantity.power.phase(i + 1), amperes * 230)
        }
        reading.set(.power, currents.reduce(0, +) * 230)
        return ReadingPayload.encode(reading, received: received)
    }

    /// A fresh site on the shared broker and a peer watching control's state there.
    static func watchControlState(test: String = #function) async throws
        -> (port: Int, site: String, topics: TopicBuilder, peer: MQTTClient, states: MQTTSubscription)
    {
        let port = try await SharedBroker.port()
        let site = uniqueSite(test)
        let topics = TopicBuilder(site: site)
        let peer = try makeClient(port: port)
        try await peer.connect()
        return (port, site, topics, peer, try await peer.subscribe(topics.controlState, qos: .atLeastOnce))
    }

    /// phasor-control on the test's site file and broker.
    static func control(site: String, port: Int) throws -> ChildProcess {
        try ChildProcess(executable("phasor-control"), [
            "--config", try siteFile(site: site), "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "warning",
        ])
    }

    /// Both chargers of the site, online with a car and drawing nothing, retained.
    static func publishChargers(_ peer: MQTTClient, _ topics: TopicBuilder, at time: Date) throws {
        for id in ["cp1", "cp2"] {
            try peer.publish(MQTTMessage(topic: topics.chargePointState(id), payload: charger(id, at: time),
                                         qos: .atLeastOnce, retain: true))
        }
    }

    /// Clears what a test left retained on the shared broker.
    static func clearRetained(_ peer: MQTTClient, _ topics: [String]) throws {
        for topic in topics { try peer.publish(MQTTMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true)) }
    }

    static func charger(_ id: String, at time: Date) -> [UInt8] {
        ChargePointStatePayload(id: id, time: time, online: true, status: .connected, currents: [0, 0, 0]).encode()
    }

    /// Defect 6: the meter sends once a second (a P1 telegram, a little over a second
    /// apart as real ones are); control answers each with one decision. Before, the
    /// 1 s timer fired just before each late reading: two setpoints a second.
    @Test func controlDecidesOncePerMeterReading() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let topics = TopicBuilder(site: site)
        let peer = try makeClient(port: port)
        try await peer.connect()
        let setpoints = try await peer.subscribe(topics.chargePointSetpoint("cp1"), qos: .atLeastOnce)
        let received = Locked<[ContinuousClock.Instant]>([])
        let collector = Task { for await m in setpoints where !m.retain { received.withLock { $0.append(.now) } } }
        defer { collector.cancel() }
        try peer.publish(MQTTMessage(topic: topics.chargePointState("cp1"), payload: Self.charger("cp1", at: Date()),
                                     qos: .atLeastOnce, retain: true))
        let control = try Self.control(site: site, port: port)
        // Control is up once it decides (on its timer: no meter yet).
        #expect(await eventually(timeout: .seconds(20)) { !received.withLock { $0.isEmpty } })
        // Ten readings at the meter's real pace.
        let first = ContinuousClock.now
        for _ in 0..<10 {
            try peer.publish(MQTTMessage(topic: topics.meterState("grid"), payload: Self.meter([2, 2, 2], at: Date()),
                                         qos: .atLeastOnce, retain: true))
            try await Task.sleep(for: .milliseconds(1010))
        }
        let last = ContinuousClock.now
        let instants = received.withLock { $0.filter { $0 >= first && $0 <= last } }
        let decisions = instants.count
        // The timer decides only after a pause of one and a half intervals since the last
        // decision (a reading late by more than half a second on a loaded machine); each of its
        // decisions follows a gap of more than a second. The defect decided twice per reading,
        // a second apart and a moment apart: no such gaps.
        let gaps = zip(instants, instants.dropFirst()).filter { $1 - $0 > .milliseconds(1200) }.count
        print("setpoints for cp1 during 10 meter readings: \(decisions), after a pause: \(gaps)")
        // On a loaded machine a reading late by more than half a second lets the timer decide
        // first and the reading less than 1.2 s after it (19 decisions, 7 after a pause, seen
        // in a fresh-clone CI run with the suite in parallel): 14 leaves room for that; the
        // defect made about 20 with no pause.
        #expect(decisions >= 9 && decisions - gaps <= 14, "\(decisions) decisions for 10 readings, \(gaps) after a pause")
        #expect(await control.terminate() == 0)
        try Self.clearRetained(peer, [topics.chargePointState("cp1"), topics.meterState("grid"), topics.controlState,
                      topics.chargePointSetpoint("cp1"), topics.chargePointSetpoint("cp2")])
        await peer.shutdown()
    }

    /// Defect 11: the gateway says the meter is offline; control stops deciding on
    /// its last reading at once (not after its own 30 s timeout), says how old that
    /// reading is, and takes a charger reported offline as offline at once.
    @Test func aMeterOrChargerReportedOfflineIsStaleOrOfflineAtOnce() async throws {
        let (port, site, topics, peer, states) = try await Self.watchControlState()
        let now = Date()
        try Self.publishChargers(peer, topics, at: now)
        try peer.publish(MQTTMessage(topic: topics.meterState("grid"), payload: Self.meter([2, 2, 2], at: now.addingTimeInterval(-2)),
                                     qos: .atLeastOnce, retain: true))
        let control = try Self.control(site: site, port: port)
        let fresh = try #require(await states.nextState(timeout: .seconds(20)) { $0.staleMeters.isEmpty && $0.point("cp1")?["online"] as? Bool == true })
        #expect(fresh.point("cp1")?["setpoint"] as? Double ?? 0 > 6)

        let reported = ContinuousClock.now
        try peer.publish(MQTTMessage(topic: topics.deviceAvailability("grid"), string: "offline", qos: .atLeastOnce, retain: true))
        let stale = try #require(await states.nextState { $0.staleMeters == ["grid"] })
        let elapsed = ContinuousClock.now - reported
        print("meter reported offline → control state stale: \(elapsed)")
        #expect(elapsed < .seconds(2))
        let details = try #require(stale.object["stale_meter_details"] as? [[String: Any]])
        #expect(details.first?["device"] as? String == "grid")
        #expect(details.first?["why"] as? String == "offline")
        #expect((details.first?["age_s"] as? Double ?? 0) >= 2, "the reading's age: \(details)")
        #expect(stale.point("cp1")?["setpoint"] as? Double == 6, "safe current under a stale meter")
        // The reason says why the meter is stale: its reading (2 s old) is within the limit.
        let reason = stale.point("cp1")?["reason"] as? String ?? ""
        #expect(reason.contains("meter 'grid' of ") && reason.contains(" is stale: the gateway reports it offline (its last reading is "),
                "\(reason)")
        if let result = try await validate([stale.bytes], against: "control-state.schema.json") {
            #expect(result.status == 0, "\(result.output)")
        }

        try peer.publish(MQTTMessage(topic: topics.deviceAvailability("cp1"), string: "offline", qos: .atLeastOnce, retain: true))
        let chargerOffline = try #require(await states.nextState { $0.point("cp1")?["online"] as? Bool == false })
        #expect(chargerOffline.point("cp2")?["online"] as? Bool == true)

        try peer.publish(MQTTMessage(topic: topics.deviceAvailability("grid"), string: "online", qos: .atLeastOnce, retain: true))
        try peer.publish(MQTTMessage(topic: topics.meterState("grid"), payload: Self.meter([2, 2, 2], at: Date()),
                                     qos: .atLeastOnce, retain: true))
        #expect(await states.nextState { $0.staleMeters.isEmpty } != nil)
        #expect(await control.terminate() == 0)
        try Self.clearRetained(peer, [topics.chargePointState("cp1"), topics.chargePointState("cp2"), topics.meterState("grid"), topics.controlState,
                      topics.deviceAvailability("grid"), topics.deviceAvailability("cp1"),
                      topics.chargePointSetpoint("cp1"), topics.chargePointSetpoint("cp2")])
        await peer.shutdown()
    }

    /// A P1 meter whose clock is two minutes behind the box (they drift; the DSO sets them):
    /// control judges the reading by when the gateway received it (`received`), so the meter
    /// is fresh and the car charges. On the meter's clock it was two minutes old: stale, every
    /// charger on its safe current for as long as the clock stayed off.
    @Test func aMeterWhoseClockIsOffIsJudgedByWhenTheGatewayReceivedIt() async throws {
        let (port, site, topics, peer, states) = try await Self.watchControlState()
        try Self.publishChargers(peer, topics, at: Date())
        let control = try Self.control(site: site, port: port)
        let feeder = Task {
            while !Task.isCancelled {
                let now = Date()
                try? peer.publish(MQTTMessage(topic: topics.meterState("grid"),
                                              payload: Self.meter([2, 2, 2], at: now.addingTimeInterval(-120), received: now),
                                              qos: .atLeastOnce, retain: true))
                try? await Task.sleep(for: .seconds(1))
            }
        }
        let charging = await states.nextState(timeout: .seconds(20)) {
            $0.staleMeters.isEmpty && ($0.point("cp1")?["setpoint"] as? Double ?? 0) > 6
        }
        feeder.cancel()
        #expect(charging != nil, "the meter is fresh by its receipt time and cp1 charges above its safe current")
        #expect(await control.terminate() == 0)
        try Self.clearRetained(peer, [topics.chargePointState("cp1"), topics.chargePointState("cp2"), topics.meterState("grid"), topics.controlState,
                      topics.chargePointSetpoint("cp1"), topics.chargePointSetpoint("cp2")])
        await peer.shutdown()
    }
}
