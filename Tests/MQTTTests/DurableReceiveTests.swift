import Foundation
import Logging
import MQTT
import PhasorTesting
import Testing

/// libmosquitto queues a QoS 1 PUBACK before the message callback runs; a durable
/// receiver's loop writes it only after the store returned `true`.
@Suite("Durable receive") struct DurableReceiveTests {
    final class Batches: @unchecked Sendable {
        let lock = NSLock()
        var stored: [[String]] = []
        var refuseFirst = true
        func store(_ batch: [MQTTMessage]) -> Bool {
            lock.withLock {
                stored.append(batch.map(\.string))
                if refuseFirst {
                    refuseFirst = false
                    return false
                }
                return true
            }
        }
        var all: [[String]] { lock.withLock { stored } }
    }

    @Test(.timeLimit(.minutes(1))) func aMessageNotStoredIsNotAcknowledgedAndComesAgain() async throws {
        let broker = try await MosquittoBroker.start()
        defer { Task { await broker.stop() } }
        var logger = Logger(label: "durable-test")
        logger.logLevel = .critical
        let batches = Batches()
        var config = MQTTConfiguration(
            host: "127.0.0.1", port: broker.port, clientID: "durable-\(UUID().uuidString.prefix(6))", cleanSession: false,
            reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200)))
        config.durableReceiver = MQTTDurableReceiver { batches.store($0) }
        let receiver = try MQTTClient(configuration: config, logger: logger)
        try await receiver.connect()
        let subscription = try await receiver.subscribe("durable/t", qos: .atLeastOnce)
        let publisher = try MQTTClient(
            configuration: MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "pub-\(UUID().uuidString.prefix(6))"),
            logger: logger)
        try await publisher.connect()
        try await publisher.publishAndWait(MQTTMessage(topic: "durable/t", string: "m1", qos: .atLeastOnce))
        // Refused once (the connection is cut unacknowledged), delivered again, stored.
        #expect(await eventually(timeout: .seconds(10)) { batches.all.flatMap { $0 }.filter { $0 == "m1" }.count >= 2 },
                "stored batches: \(batches.all)")
        #expect(batches.all.first == ["m1"])
        subscription.cancel()
        await publisher.shutdown()
        await receiver.shutdown()
    }
}
