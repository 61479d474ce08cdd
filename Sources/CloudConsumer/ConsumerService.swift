import Foundation
import Logging
import MQTT

/// One member of the cloud's consumer group: a shared subscription
/// (`$share/<group>/<prefix>/+/v1/up/#`) whose messages are written to PostgreSQL
/// before they are acknowledged — the bridge's durable receive again: a batch is
/// committed in one transaction, then its PUBACKs leave. A consumer killed before
/// the commit acknowledged nothing; its persistent session gets the messages again
/// when it comes back, and the primary key `(site, stream, seq)` drops the copies.
public final class ConsumerGroupMember: Sendable {
    public let client: MQTTClient
    public let filter: String

    public init(broker: MQTTBrokerURL, clientID: String, group: String, prefix: String, store: PostgresStore, logger: Logger,
                tls: MQTTTLSConfiguration? = nil, username: String? = nil, password: String? = nil) throws {
        filter = "$share/\(group)/\(prefix)/+/v1/up/#"
        var c = MQTTConfiguration(
            host: broker.host, port: broker.port, clientID: clientID, username: username, password: password, tls: tls,
            cleanSession: false, sessionExpiryInterval: 86_400)
        c.durableReceiver = MQTTDurableReceiver { batch in
            let envelopes = batch.compactMap { DecodedEnvelope($0.payload) }
            if envelopes.count < batch.count {
                logger.warning("messages that are not envelopes skipped", metadata: ["count": "\(batch.count - envelopes.count)"])
            }
            do {
                try store.insert(envelopes)
                return true
            } catch {
                logger.error("PostgreSQL insert failed: not acknowledged", metadata: ["error": "\(error)"])
                return false
            }
        }
        client = try MQTTClient(configuration: c, logger: logger)
    }

    /// Connects and subscribes; messages flow until `shutdown`.
    public func start() async throws -> MQTTSubscription {
        client.start()
        try await client.waitUntilConnected()
        return try await client.subscribe(filter, qos: .atLeastOnce)
    }
}
