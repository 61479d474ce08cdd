import Foundation
import Logging
import MQTT
import PhasorTesting

/// A unique topic root per test, so suites run in parallel on one broker.
func uniqueRoot(_ name: String = #function) -> String {
    "test/\(name.prefix(while: { $0 != "(" }))/\(UUID().uuidString.prefix(8))"
}

func makeClient(
    port: Int, id: String = "t-\(UUID().uuidString.prefix(10))", version: MQTTProtocolVersion = .v5,
    cleanSession: Bool = true, queue: MQTTOfflineQueuePolicy = MQTTOfflineQueuePolicy(),
    will: MQTTMessage? = nil, birth: MQTTMessage? = nil, tls: MQTTTLSConfiguration? = nil
) throws -> MQTTClient {
    var logger = Logger(label: "test.\(id)")
    logger.logLevel = .warning
    return try MQTTClient(
        configuration: MQTTConfiguration(
            host: "127.0.0.1", port: port, clientID: id, protocolVersion: version, tls: tls, keepAlive: 5,
            cleanSession: cleanSession, will: will, birth: birth,
            reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(400)),
            offlineQueue: queue),
        logger: logger)
}

/// Collects `count` messages, or what arrived before `timeout` (then the
/// subscription ends: cancelling its iteration terminates the stream).
func collect(_ subscription: MQTTSubscription, count: Int, timeout: Duration = .seconds(10)) async -> [MQTTMessage] {
    let collector = Task {
        var out: [MQTTMessage] = []
        for await m in subscription {
            out.append(m)
            if out.count >= count { break }
        }
        return out
    }
    let timer = Task {
        try? await Task.sleep(for: timeout)
        collector.cancel()
    }
    defer { timer.cancel() }
    return await collector.value
}
