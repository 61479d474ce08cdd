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

/// Disk full: the intake stops accepting (nothing acknowledged, the messages wait on the
/// site's broker), raises `alert/bridge_outbox_full`, and once there is room again (the
/// cloud link drained the outbox) every message is stored, none twice, and the alert clears.
@Suite("Outbox disk full", .serialized, .endToEnd) struct DiskFullTests {
    @Test(.timeLimit(.minutes(2))) func aFullOutboxStopsAcceptingRaisesAnAlertAndLosesNothing() async throws {
        let broker = try await MosquittoBroker.start()
        defer { Task { await broker.stop() } }
        var logger = Logger(label: "disk-full-test")
        logger.logLevel = .critical
        let site = "full\(UUID().uuidString.prefix(4))"
        let topics = TopicBuilder(site: site)
        let path = temporaryOutboxPath()
        let mqtt = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "bridge-\(site)",
                                     reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200)))
        let site1 = try MQTTClient(configuration: mqtt, logger: logger)
        try await site1.connect()
        let alerts = try await site1.subscribe("\(topics.root)/alert/bridge_outbox_full", qos: .atLeastOnce)
        let classifier = try StreamClassifier(root: topics.root, rules: ForwardRule.defaults)

        // A small "disk": 40 pages of 4 KiB.
        let small = try Outbox(settings: OutboxSettings(path: path, maxBytes: 1 << 30, pageLimit: 40))
        let first = try OutboxIntakeService(siteMQTT: mqtt, classifier: classifier, outbox: small, alerts: site1, topics: topics,
                                            logger: logger)
        let running = Task { try await first.run() }
        // Every forward filter subscribed (a probe stored on one stream proved only that
        // stream's filter: `event/#` is subscribed last, and an event published before
        // its SUBACK has no subscriber and is dropped by the broker — the "79 of 80,
        // event 1 missing" this test once reported).
        #expect(await eventually(timeout: .seconds(30)) { first.isSubscribed })
        let big = String(repeating: "x", count: 3000)
        let total = 80
        for i in 1...total {
            try await site1.publishAndWait(MQTTMessage(topic: "\(topics.root)/event/e", string: #"{"n":\#(i),"pad":"\#(big)"}"#,
                                                       qos: .atLeastOnce))
        }
        let alert = await alerts.next(timeout: .seconds(15))
        let raised = try #require(alert.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] })
        #expect(raised["active"] as? Bool == true)
        #expect((raised["message"] as? String ?? "").contains("cannot store"))
        let storedWhileFull = try small.fetch(lane: nil, after: 0, limit: 1000).filter { $0.stream == "event/e" }.count
        // Not everything: the intake stopped accepting. (How much went in first depends on how
        // the 80 arrive: a burst is stored in one transaction, whole or not at all, so a first
        // burst larger than the room left stores none of them — seen once in three runs.)
        #expect(storedWhileFull < total)

        // Room again: the cloud link drains what was stored (acknowledged rows leave). The
        // intake's retry stores the rest from the persistent session and clears the alert.
        func counters(_ rows: [OutboxRecord]) -> [Int] {
            rows.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any])?["n"] as? Int }
        }
        var delivered: [Int] = []
        var seqs: [Int64] = []
        let drained = await eventually(timeout: .seconds(30)) {
            let rows = (try? small.fetch(lane: nil, after: 0, limit: 1000)) ?? []
            let events = rows.filter { $0.stream == "event/e" }
            delivered += counters(events)
            seqs += events.map(\.seq)
            try? small.acknowledge(rows.map(\.id))
            return delivered.count >= total
        }
        #expect(drained, "stored \(delivered.count) of \(total), missing \(Set(1...total).subtracting(delivered).sorted())")
        #expect(delivered.sorted() == Array(1...total), "every message once")
        #expect(seqs.sorted() == Array(1...Int64(total)))
        let cleared = await alerts.next(timeout: .seconds(10))
        #expect(cleared.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] }?["active"] as? Bool == false)
        running.cancel()
        _ = try? await running.value
        await site1.shutdown()
    }
}
