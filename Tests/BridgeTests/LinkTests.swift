import BridgeCloud
import BridgeCore
import BridgeOutbox
import Foundation
import GRDB
import Logging
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// Rows waiting in the bridge's outbox, read beside the running bridge (WAL allows it).
func outboxDepth(_ path: String) -> Int {
    guard FileManager.default.fileExists(atPath: path),
        let q = try? DatabaseQueue(path: path, configuration: { var c = Configuration(); c.readonly = true; return c }())
    else { return -1 }
    return (try? q.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM outbox") }) ?? -1
}

@Suite("Bridge link", .serialized, .endToEnd) struct BridgeLinkTests {
    /// The kill -9 acceptance: a stream from the site's broker while the real bridge is
    /// killed three times; every message reaches the cloud, each under one sequence
    /// number, numbered without holes or repeats.
    @Test(.timeLimit(.minutes(3))) func killedThreeTimesMidStreamLosesNothingAndNeverRepeatsASequenceNumber() async throws {
        let rig = try await BridgeRig()
        defer { Task { await rig.shutdown() } }
        try await rig.subscribeCloud()
        try rig.startBridge()
        #expect(await rig.waitForIntake())
        let pub = try await rig.localClient()
        let total = 4000
        let kills: Set<Int> = [900, 2100, 3300]
        var restarts = 1
        for i in 1...total {
            try pub.publish(MQTTMessage(topic: "phasor/\(rig.site)/meter/m1/state", payload: meterPayload(i), qos: .atLeastOnce))
            if i % 50 == 0 { await pub.flush() }
            if kills.contains(i) {
                await rig.killBridge()
                try rig.startBridge()
                restarts += 1
            }
        }
        await pub.flush()
        let arrived = await eventually(timeout: .seconds(90)) {
            Set(rig.envelopes.compactMap { $0.payload?["n"] as? Int }).count == total
        }
        let envelopes = rig.envelopes.filter { $0.stream == "meter/m1/state" }
        let counters = Set(envelopes.compactMap { $0.payload?["n"] as? Int })
        #expect(arrived, "missing: \(Set(1...total).subtracting(counters).sorted().prefix(20))")
        var bySeq: [Int64: Set<Int>] = [:]
        var byCounter: [Int: Set<Int64>] = [:]
        for e in envelopes {
            guard let n = e.payload?["n"] as? Int else { continue }
            bySeq[e.seq, default: []].insert(n)
            byCounter[n, default: []].insert(e.seq)
        }
        #expect(bySeq.values.allSatisfy { $0.count == 1 }, "a sequence number carried two messages")
        #expect(byCounter.values.allSatisfy { $0.count == 1 }, "a message was stored twice")
        #expect(Set(bySeq.keys) == Set(1...Int64(total)))
        // After dedup on seq, in order per stream: seq order is the order of publishing.
        let ordered = bySeq.keys.sorted().compactMap { bySeq[$0]?.first }
        #expect(ordered == Array(1...total))
        print("kill -9 × \(kills.count): \(total) published, \(counters.count) distinct arrived, \(envelopes.count) deliveries (\(envelopes.count - counters.count) resent, deduplicated on seq), \(restarts) bridge starts")
        await pub.shutdown()
    }

    /// A cloud outage: what waited replays oldest first, flagged historical (user
    /// property and envelope); a live value after the link is back overtakes the backlog.
    @Test(.timeLimit(.minutes(3))) func aCloudOutageReplaysTheBacklogOldestFirstFlaggedAndLiveValuesGoFirst() async throws {
        let rig = try await BridgeRig()
        // Slow replay (200/s) so the live value has a backlog to overtake.
        try rig.writeSite(cloud: "    backlog_rate: 200\n")
        defer { Task { await rig.shutdown() } }
        let pub = try await rig.startAll()
        let topic = "phasor/\(rig.site)/meter/m1/state"
        try await rig.publishMeterStates(1...20, with: pub)
        #expect(await eventually(timeout: .seconds(20)) { rig.envelopes.count >= 20 })
        #expect(rig.envelopes.allSatisfy { !$0.hist && !$0.histProperty })

        await rig.cloud.stop()
        let outage = 600
        for i in 21...(20 + outage) { try pub.publish(MQTTMessage(topic: topic, payload: meterPayload(i), qos: .atLeastOnce)) }
        await pub.flush()
        #expect(await eventually(timeout: .seconds(20)) { outboxDepth(rig.outboxPath) >= outage }, "the outbox holds the outage's messages")
        try await rig.cloud.startAgain()
        // Once the replay has begun, a live value.
        #expect(await eventually(timeout: .seconds(30)) { rig.envelopes.contains { $0.hist } })
        try await pub.publishAndWait(MQTTMessage(topic: topic, payload: meterPayload(100_000), qos: .atLeastOnce))
        #expect(await eventually(timeout: .seconds(60)) {
            Set(rig.envelopes.compactMap { $0.payload?["n"] as? Int }).count == 20 + outage + 1
        })
        let all = rig.envelopes
        let backlog = all.filter { ($0.payload?["n"] as? Int).map { (21...(20 + outage)).contains($0) } ?? false }
        #expect(backlog.allSatisfy { $0.hist && $0.histProperty }, "replayed messages are flagged historical")
        let firstArrivals = backlog.reduce(into: [Int64]()) { seqs, e in if !seqs.contains(e.seq) { seqs.append(e.seq) } }
        #expect(firstArrivals == firstArrivals.sorted(), "backlog replays oldest first")
        let live = try #require(all.firstIndex { $0.payload?["n"] as? Int == 100_000 })
        #expect(!all[live].hist && !all[live].histProperty)
        let lastBacklog = try #require(all.lastIndex { $0.hist })
        #expect(live < lastBacklog, "the live value went out before the backlog was done")
        print("cloud outage: \(outage) messages waited, replayed at 200/s, all flagged hist=1; live value overtook \(lastBacklog - live) of them")
        await pub.shutdown()
    }
}

@Suite("Bridge link on MQTT 3.1.1", .serialized, .endToEnd) struct BridgeLink311Tests {
    /// `protocol: 3.1.1` (what `auto` falls back to): no user properties exist, so the
    /// envelope alone says what was replayed.
    @Test(.timeLimit(.minutes(2))) func onMQTT311TheEnvelopeCarriesSeqAndTheHistoricalFlag() async throws {
        let rig = try await BridgeRig()
        try rig.writeSite(cloud: "    protocol: \"3.1.1\"\n")
        defer { Task { await rig.shutdown() } }
        let pub = try await rig.startAll()
        try await rig.publishMeterStates(1...5, with: pub)
        #expect(await eventually(timeout: .seconds(20)) { rig.envelopes.count >= 5 })
        await rig.cloud.stop()
        try await rig.publishMeterStates(6...10, with: pub)
        #expect(await eventually(timeout: .seconds(20)) { outboxDepth(rig.outboxPath) >= 5 })
        try await rig.cloud.startAgain()
        #expect(await eventually(timeout: .seconds(30)) { Set(rig.envelopes.compactMap { $0.payload?["n"] as? Int }).count == 10 })
        let all = rig.envelopes
        #expect(all.allSatisfy { !$0.histProperty }, "no user properties on 3.1.1")
        let replayed = all.filter { counter($0) > 5 }
        let live = all.filter { counter($0) <= 5 }
        #expect(replayed.allSatisfy { $0.hist })
        #expect(live.allSatisfy { !$0.hist })
        #expect(Set(all.map(\.seq)) == Set(1...10))
        #expect(rig.bridgeLog.contains("broker=127.0.0.1:\(rig.cloud.port)"))
        await pub.shutdown()
    }
}

func counter(_ e: BridgeRig.Envelope) -> Int { (e.payload?["n"] as? Int) ?? 0 }

@Suite("Bridge link falls back to MQTT 3.1.1", .serialized, .endToEnd) struct BridgeFallbackTests {
    /// `protocol: auto` against a broker that refuses MQTT 5 — a 3.1.1-only broker's
    /// CONNACK (return code 1) or an MQTT 5 CONNACK with 0x84 — played by a loopback
    /// listener of ours in front of a real mosquitto: the bridge reconnects in 3.1.1 and
    /// every message arrives, numbered, without user properties.
    @Test(.timeLimit(.minutes(2)), arguments: [RefusingProxy.Refusal.broker311, .reason0x84])
    func aBrokerRefusingMQTT5IsSpokenToIn311(_ refusal: RefusingProxy.Refusal) async throws {
        let rig = try await BridgeRig()
        defer { Task { await rig.shutdown() } }
        let proxy = try RefusingProxy(target: rig.cloud.port, refusal: refusal)
        defer { proxy.stop() }
        try rig.writeSite(cloudSection: "    url: mqtt://127.0.0.1:\(proxy.port)\n")
        let pub = try await rig.startAll()
        try await rig.publishMeterStates(1...5, with: pub)
        #expect(await eventually(timeout: .seconds(30)) { Set(rig.envelopes.compactMap { $0.payload?["n"] as? Int }).count == 5 })
        let all = rig.envelopes
        #expect(Set(all.map(\.seq)) == Set(1...5))
        #expect(all.allSatisfy { $0.userProperties == 0 }, "3.1.1 has no user properties")
        #expect(proxy.refused >= 1, "the bridge tried MQTT 5 first")
        #expect(proxy.proxied >= 1)
        #expect(rig.bridgeLog.contains("falling back to MQTT 3.1.1"))
        await pub.shutdown()
    }
}

@Suite("Cloud link acknowledgement timeout", .serialized, .endToEnd) struct AckTimeoutTests {
    /// A cloud connection that stays up but never acknowledges (the broker's PUBACKs
    /// dropped by a listener of ours in front of a real mosquitto): once the oldest
    /// message has waited `ackTimeout` on the injected clock, the link cuts the
    /// connection and makes it again; libmosquitto resends on the resumed session, the
    /// acknowledgement comes, and the row leaves the outbox.
    @Test(.timeLimit(.minutes(2))) func aConnectionThatNeverAcknowledgesIsCutAndMadeAgain() async throws {
        let cloud = try await MosquittoBroker.start()
        defer { Task { await cloud.stop() } }
        let proxy = try RefusingProxy(target: cloud.port, refusal: nil, swallowPubacks: [1])
        defer { proxy.stop() }
        let site = "ack\(UUID().uuidString.prefix(4))"
        let logger = BridgeRig.logger()
        let outbox = try Outbox(settings: OutboxSettings(path: temporaryOutboxPath(), maxBytes: 1 << 30))
        let clock = ManualWallClock()
        let mqtt = MQTTConfiguration(host: "127.0.0.1", port: proxy.port, clientID: "link-\(site)", cleanSession: false,
                                     reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200)))
        let link = CloudLinkService(
            configuration: CloudLinkConfiguration(mqtt: mqtt, fallbackTo311: false, topics: CloudTopics(site: site), ackTimeout: 30),
            outbox: outbox, commands: nil, logger: logger, clock: clock)
        let consumer = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: cloud.port, clientID: "consumer-\(site)"),
                                      logger: logger)
        let up = try await consumer.subscribe("phasor/\(site)/v1/up/#", qos: .atLeastOnce)
        try await consumer.connect()
        let running = Task { try await link.run() }
        try outbox.append(OutboxMessage(stream: "event/e", payload: Array(#"{"n":1}"#.utf8), sourceTime: clock.now(), class: .event),
                          now: clock.now())
        // Sent, arrived at the cloud, its PUBACK swallowed: the row waits.
        #expect(await up.next(timeout: .seconds(20)) != nil)
        #expect(await eventually { proxy.swallowed >= 1 })
        #expect(outbox.depth.messages == 1)
        #expect(proxy.proxied == 1)
        clock.advance(by: 31)
        #expect(await eventually(timeout: .seconds(20)) { proxy.proxied >= 2 && outbox.depth.messages == 0 })
        running.cancel()
        _ = try? await running.value
        await consumer.shutdown()
    }
}

@Suite("Cloud command subscription refused", .serialized, .endToEnd) struct CommandSubscriptionRefusedTests {
    /// The cloud refuses the bridge's command subscription (SUBACK 0x87, as a broker whose ACL
    /// denies it answers): the relay asks again with backoff and, once granted, relays the
    /// cloud's commands on the same connection. Before, it logged the refusal and gave up: the
    /// site stayed deaf to every command until the bridge restarted.
    @Test(.timeLimit(.minutes(2))) func aRefusedCommandSubscriptionIsAskedForAgain() async throws {
        let cloud = try await MosquittoBroker.start()
        let local = try await MosquittoBroker.start()
        defer { Task { await cloud.stop(); await local.stop() } }
        let proxy = try RefusingProxy(target: cloud.port, refusal: nil, refuseSubacks: 2)
        defer { proxy.stop() }
        let site = "refused\(UUID().uuidString.prefix(4))"
        let logger = BridgeRig.logger()
        let outbox = try Outbox(settings: OutboxSettings(path: temporaryOutboxPath(), maxBytes: 1 << 30))
        let siteClient = try MQTTClient(
            configuration: MQTTConfiguration(host: "127.0.0.1", port: local.port, clientID: "site-\(site)"), logger: logger)
        let slider = try await siteClient.subscribe("phasor/\(site)/control/slider/set", qos: .atLeastOnce)
        try await siteClient.connect()
        let relay = CommandRelay(
            policy: CommandPolicy(allowed: [.slider]), outbox: outbox, local: siteClient, localRoot: "phasor/\(site)",
            topics: CloudTopics(site: site), logger: logger, retryFirst: .milliseconds(20))
        let mqtt = MQTTConfiguration(host: "127.0.0.1", port: proxy.port, clientID: "link-\(site)", cleanSession: false,
                                     reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200)))
        let link = CloudLinkService(
            configuration: CloudLinkConfiguration(mqtt: mqtt, fallbackTo311: false, topics: CloudTopics(site: site), ackTimeout: 30),
            outbox: outbox, commands: relay, logger: logger)
        let running = Task { try await link.run() }
        let operator_ = try MQTTClient(
            configuration: MQTTConfiguration(host: "127.0.0.1", port: cloud.port, clientID: "operator-\(site)"), logger: logger)
        try await operator_.connect()

        // Refused twice, granted the third time: commands then reach the site's broker.
        let first = Task { () -> String? in
            for await m in slider { return m.string }
            return nil
        }
        var probe = 0
        let relayed = await eventually(timeout: .seconds(20)) {
            probe += 1
            try? await operator_.publishAndWait(MQTTMessage(
                topic: "phasor/\(site)/v1/command",
                payload: Array(#"{"id":"s\#(probe)","command":"slider","value":6.5,"issued":"\#(ISO8601Text.format(Date()))"}"#.utf8),
                qos: .atLeastOnce))
            try? await Task.sleep(for: .milliseconds(100))
            return probe > 1 && proxy.subacksRefused == 2 && siteClient.statistics.received > 0
        }
        #expect(relayed, "refused \(proxy.subacksRefused), proxied \(proxy.proxied)")
        #expect(await first.value == #"{"value":6.5}"#)
        #expect(proxy.subacksRefused == 2)
        #expect(proxy.proxied == 1, "one connection: the relay asked again on it")
        running.cancel()
        _ = try? await running.value
        await operator_.shutdown()
        await siteClient.shutdown()
    }
}
