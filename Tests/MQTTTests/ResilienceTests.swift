import Foundation
import MQTT
import PhasorTesting
import Testing

/// Sessions, outages and bounds, each against a broker of its own that the test
/// stops, kills and restarts.
@Suite struct ResilienceTests {
    @Test func persistentSessionReceivesEverythingPublishedWhileAway() async throws {
        let broker = try await MosquittoBroker.start()
        let root = uniqueRoot()
        let id = "persistent-\(UUID().uuidString.prefix(6))"
        let first = try makeClient(port: broker.port, id: id, cleanSession: false)
        let subscription = try await first.subscribe("\(root)/#", qos: .atLeastOnce)
        try await first.connect()
        try await first.publishAndWait(MQTTMessage(topic: "\(root)-sync", string: "", qos: .atLeastOnce))
        await first.shutdown()
        withExtendedLifetime(subscription) {}

        let publisher = try makeClient(port: broker.port)
        try await publisher.connect()
        for i in 0..<500 { try publisher.publish(MQTTMessage(topic: "\(root)/m", string: "\(i)", qos: .atLeastOnce)) }
        #expect(await publisher.flush())

        // Subscribe before connecting: the broker delivers the stored messages right after CONNACK.
        let back = try makeClient(port: broker.port, id: id, cleanSession: false)
        let messages = try await back.subscribe("\(root)/#", qos: .atLeastOnce)
        try await back.connect()
        let got = await collect(messages, count: 500)
        #expect(got.count == 500, "lost \(500 - got.count) of 500 QoS 1 messages")
        #expect(got.map(\.string) == (0..<500).map(String.init))
        await back.shutdown()
        await publisher.shutdown()
    }

    @Test func clientsReconnectAndNothingPublishedDuringAnOutageIsLost() async throws {
        let broker = try await MosquittoBroker.start()
        let root = uniqueRoot()
        let subscriber = try makeClient(port: broker.port, id: "outage-sub-\(UUID().uuidString.prefix(6))", cleanSession: false)
        let messages = try await subscriber.subscribe("\(root)/#", qos: .atLeastOnce)
        try await subscriber.connect()
        let publisher = try makeClient(port: broker.port, queue: .init(capacity: 1000))
        try await publisher.connect()
        let events = publisher.connectionEvents()
        try await Task.sleep(for: .milliseconds(1200))  // autosave: the broker has written the session

        await broker.kill()
        try await waitFor(events, where: { if case .disconnected = $0 { true } else { false } })
        for i in 0..<300 { try publisher.publish(MQTTMessage(topic: "\(root)/m", string: "\(i)", qos: .atLeastOnce)) }
        #expect(publisher.statistics.queuedOffline == 300)
        try await broker.startAgain()

        let got = await collect(messages, count: 300, timeout: .seconds(20))
        #expect(got.count == 300, "lost \(300 - got.count) of 300")
        #expect(Set(got.map(\.string)) == Set((0..<300).map(String.init)))
        #expect(publisher.statistics.connections >= 2)
        #expect(subscriber.statistics.connections >= 2)
        #expect(publisher.statistics.droppedOffline == 0)
        await publisher.shutdown()
        await subscriber.shutdown()
    }

    @Test func beyondTheQueueBoundDropsAreCountedAndTheNewestKept() async throws {
        let broker = try await MosquittoBroker.start()
        let root = uniqueRoot()
        let subscriber = try makeClient(port: broker.port, id: "bound-sub-\(UUID().uuidString.prefix(6))", cleanSession: false)
        let messages = try await subscriber.subscribe("\(root)/#", qos: .atLeastOnce)
        try await subscriber.connect()
        let publisher = try makeClient(port: broker.port, queue: .init(capacity: 100, whenFull: .dropOldest))
        try await publisher.connect()
        let events = publisher.connectionEvents()
        try await Task.sleep(for: .milliseconds(1200))

        await broker.kill()
        try await waitFor(events, where: { if case .disconnected = $0 { true } else { false } })
        for i in 0..<300 { try publisher.publish(MQTTMessage(topic: "\(root)/m", string: "\(i)", qos: .atLeastOnce)) }
        #expect(publisher.statistics.droppedOffline == 200)
        try await broker.startAgain()

        let got = await collect(messages, count: 100, timeout: .seconds(20))
        #expect(got.map(\.string) == (200..<300).map(String.init))
        await publisher.shutdown()
        await subscriber.shutdown()
    }

    @Test func rejectNewPolicyRefusesWithAnError() async throws {
        let broker = try await MosquittoBroker.start(options: .init(persistence: false))
        let publisher = try makeClient(port: broker.port, queue: .init(capacity: 2, whenFull: .rejectNew))
        try await publisher.connect()
        let events = publisher.connectionEvents()
        await broker.kill()
        try await waitFor(events, where: { if case .disconnected = $0 { true } else { false } })
        try publisher.publish(MQTTMessage(topic: "a/b", string: "1", qos: .atLeastOnce))
        try publisher.publish(MQTTMessage(topic: "a/b", string: "2", qos: .atLeastOnce))
        #expect(throws: MQTTError.offlineQueueFull(capacity: 2)) {
            try publisher.publish(MQTTMessage(topic: "a/b", string: "3", qos: .atLeastOnce))
        }
        #expect(publisher.statistics.droppedOffline == 1)
        await publisher.shutdown()
    }

    /// A broker that kept the session keeps its subscriptions, so a reconnect sends only what
    /// it lacks: a filter first subscribed while away (before: never sent, never received), and
    /// the UNSUBSCRIBE of one given up while away (before: the broker went on sending it).
    @Test func aKeptSessionGetsWhatWasSubscribedAndUnsubscribedWhileAway() async throws {
        let broker = try await MosquittoBroker.start()
        let root = uniqueRoot()
        let client = try makeClient(port: broker.port, id: "kept-\(UUID().uuidString.prefix(6))", cleanSession: false)
        let first = try await client.subscribe("\(root)/first", qos: .atLeastOnce)
        let dropped = try await client.subscribe("\(root)/dropped", qos: .atLeastOnce)
        try await client.connect()
        let events = client.connectionEvents()
        try await Task.sleep(for: .milliseconds(1200))  // autosave: the broker has written the session

        await broker.kill()
        try await waitFor(events, where: { if case .disconnected = $0 { true } else { false } })
        let second = try await client.subscribe("\(root)/second", qos: .atLeastOnce)
        dropped.cancel()
        try await broker.startAgain()
        try await waitFor(events, where: { if case .connected(sessionPresent: true) = $0 { true } else { false } })

        let publisher = try makeClient(port: broker.port)
        try await publisher.connect()
        for topic in ["dropped", "first", "second"] {
            try await publisher.publishAndWait(MQTTMessage(topic: "\(root)/\(topic)", string: topic, qos: .atLeastOnce))
        }
        #expect(await collect(first, count: 1).map(\.string) == ["first"])
        #expect(await collect(second, count: 1).map(\.string) == ["second"], "a filter subscribed while away")
        #expect(client.statistics.unrouted == 0, "the broker still sent a filter unsubscribed while away")
        await publisher.shutdown()
        await client.shutdown()
    }

    @Test func connectTimesOutNamingTheLastErrorWhenNoBrokerListens() async throws {
        let client = try makeClient(port: Loopback.freePort())
        let error = await #expect(throws: MQTTError.self) { try await client.connect(timeout: .milliseconds(400)) }
        guard case .timeout(let text) = error else { Issue.record("expected a timeout, got \(String(describing: error))"); return }
        #expect(text.contains("refused"))
        await client.shutdown()
    }
}

func waitFor(
    _ events: AsyncStream<MQTTConnectionEvent>, timeout: Duration = .seconds(10),
    where predicate: @escaping @Sendable (MQTTConnectionEvent) -> Bool
) async throws {
    let watcher = Task {
        for await e in events where predicate(e) { return true }
        return false
    }
    let timer = Task {
        try? await Task.sleep(for: timeout)
        watcher.cancel()
    }
    defer { timer.cancel() }
    guard await watcher.value else { throw MQTTError.timeout("event not seen") }
}
