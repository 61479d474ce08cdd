import Testing
@testable import MQTT

@Suite struct TopicFilterTests {
    @Test(arguments: [
        ("a/b/c", "a/b/c", true), ("a/+/c", "a/b/c", true), ("a/+/c", "a/b/d", false),
        ("a/#", "a", true), ("a/#", "a/b/c", true), ("#", "a/b", true), ("+/+", "a/b", true),
        ("+/+", "a/b/c", false), ("a/+", "a/", true), ("+", "/a", false), ("#", "$SYS/x", false),
        ("+/x", "$SYS/x", false), ("$SYS/#", "$SYS/x", true), ("a/b", "a/b/c", false),
    ])
    func matching(filter: String, topic: String, expected: Bool) throws {
        #expect(try TopicFilter(filter).matches(topic) == expected)
    }

    @Test(arguments: ["", "a/#/b", "a/b#", "a/+b", "#/a"])
    func invalidFiltersAreRefused(filter: String) {
        #expect(throws: MQTTError.self) { try TopicFilter(filter) }
    }
}

@Suite struct OfflineQueueTests {
    private func message(_ i: Int) -> MQTTMessage { MQTTMessage(topic: "t", string: "\(i)", qos: .atLeastOnce) }

    @Test func dropOldestKeepsTheNewestAndCountsDrops() {
        var q = OfflineQueue(policy: .init(capacity: 3, whenFull: .dropOldest))
        for i in 0..<5 { _ = q.push(message(i)) }
        #expect(q.count == 3)
        #expect(q.droppedCount == 2)
        #expect(q.drain().map(\.string) == ["2", "3", "4"])
        #expect(q.isEmpty)
    }

    @Test func rejectNewRefusesAndCounts() {
        var q = OfflineQueue(policy: .init(capacity: 2, whenFull: .rejectNew))
        #expect(q.push(message(0)) == .queued)
        #expect(q.push(message(1)) == .queued)
        #expect(q.push(message(2)) == .rejected)
        #expect(q.droppedCount == 1)
        #expect(q.drain().map(\.string) == ["0", "1"])
    }

    @Test func zeroCapacityQueuesNothing() {
        var q = OfflineQueue(policy: .init(capacity: 0))
        #expect(q.push(message(0)) == .rejected)
        #expect(q.count == 0)
    }
}

@Suite struct BrokerURLTests {
    @Test func parsesSchemesPortsAndIPv6() throws {
        #expect(try MQTTBrokerURL(parsing: "mqtt://127.0.0.1:1884") == .init(host: "127.0.0.1", port: 1884, usesTLS: false))
        #expect(try MQTTBrokerURL(parsing: "mqtts://broker.example") == .init(host: "broker.example", port: 8883, usesTLS: true))
        #expect(try MQTTBrokerURL(parsing: "localhost") == .init(host: "localhost", port: 1883, usesTLS: false))
        #expect(try MQTTBrokerURL(parsing: "tcp://[::1]:2000") == .init(host: "::1", port: 2000, usesTLS: false))
    }

    @Test(arguments: ["http://x", "mqtt://:1883", "mqtt://h:0", "mqtt://h:port"])
    func refusesBadURLs(text: String) {
        #expect(throws: MQTTError.self) { try MQTTBrokerURL(parsing: text) }
    }

    @Test func backoffIsExponentialAndCapped() {
        let p = MQTTReconnectPolicy(initialDelay: .milliseconds(500), maximumDelay: .seconds(30), multiplier: 2)
        #expect(p.baseDelay(attempt: 0) == .milliseconds(500))
        #expect(p.baseDelay(attempt: 3) == .seconds(4))
        #expect(p.baseDelay(attempt: 20) == .seconds(30))
    }
}

/// The table of outgoing messages not yet complete, by 16-bit message id.
@Suite struct PendingMessagesTests {
    @Test func tracksByMessageIdAcrossTheWholeRange() {
        var pending = PendingMessages()
        #expect(pending.isEmpty)
        pending.insert(1, qos: .atLeastOnce)
        pending.insert(65_535, qos: .atMostOnce)
        pending.insert(1, qos: .atLeastOnce)  // the same mid again counts once
        #expect(pending.count == 2)
        #expect(pending.remove(2) == nil)
        #expect(pending.remove(65_535) == .atMostOnce)
        #expect(pending.remove(65_535) == nil)
        #expect(pending.remove(1) == .atLeastOnce)
        #expect(pending.isEmpty)
    }

    @Test func aLostConnectionDropsOnlyQoS0() {
        var pending = PendingMessages()
        pending.insert(7, qos: .atMostOnce)
        pending.insert(8, qos: .atLeastOnce)
        pending.insert(9, qos: .exactlyOnce)
        pending.insert(10, qos: .atMostOnce)
        #expect(pending.removeAtMostOnce() == 2)
        #expect(pending.count == 2)
        #expect(pending.remove(8) == .atLeastOnce)
        #expect(pending.remove(9) == .exactlyOnce)
        #expect(pending.remove(7) == nil)
    }
}
