import BridgeCore
import BridgeOutbox
import Foundation
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// The local side of the outbox, as a lifecycle `Service`: a persistent session on
/// the site's broker (fixed client id, `cleanSession: false`, QoS 1) that stores every
/// forwarded message in the outbox before acknowledging it.
///
/// The kill -9 gap, closed at its source: libmosquitto queues the PUBACK of a QoS 1
/// message before its callback runs. The intake's client is a durable receiver
/// (`MQTTDurableReceiver`): the loop reads a burst, commits it to the outbox in one
/// transaction, and only then writes the PUBACKs. Killed before the commit, the
/// bridge never acknowledged the messages and the broker delivers them again to the
/// persistent session; killed after the commit and before the PUBACKs left, the
/// broker delivers them again too, and the outbox recognises them (`redeliveryKey`)
/// and does not store them twice. Messages published while the bridge is down wait in
/// the broker's queue for the session.
///
/// Disk full: nothing of the burst is stored, the connection is dropped without
/// acknowledging (the broker keeps the messages), `alert/bridge_outbox_full` is raised
/// on the site's broker and cleared when storing works again.
public final class OutboxIntakeService: Service, Sendable {
    public let client: MQTTClient
    let classifier: StreamClassifier
    let filters: [String]
    let logger: Logger
    let subscribed = Locked(false)

    /// `true` once every forward filter is subscribed on the site's broker (SUBACK):
    /// from then on the broker queues every forwarded message for the intake's
    /// session. A message published before that, on a session's very first start, has
    /// no subscriber and the broker drops it — wait for this before publishing what
    /// must arrive.
    public var isSubscribed: Bool { subscribed.withLock { $0 } }

    /// `aggregates`: the site file's `bridge.aggregate` (none: every message forwarded as it is).
    public init(siteMQTT: MQTTConfiguration, login: (username: String, password: String?)? = nil, classifier: StreamClassifier,
                aggregates: [AggregateRule] = [], outbox: Outbox, alerts: MQTTClient, topics: TopicBuilder, logger: Logger,
                clock: any WallClock = SystemWallClock()) throws {
        self.classifier = classifier
        self.logger = logger
        let full = Locked(false)
        // The aggregates in progress, as last committed with the readings they took in.
        var aggregator = try Aggregator(root: classifier.root, rules: aggregates)
        if !aggregates.isEmpty, let saved = try outbox.sidecar(Self.aggregatorKey),
            let state = try? JSONDecoder().decode(Aggregator.State.self, from: Data(saved))
        {
            aggregator = try Aggregator(root: classifier.root, rules: aggregates, state: state)
        }
        let aggregation = aggregates.isEmpty ? nil : Locked(aggregator)
        var seen = Set<String>()
        filters = (aggregator.filters + classifier.filters).filter { seen.insert($0).inserted }
        var c = siteMQTT
        c.clientID = "\(siteMQTT.clientID)-outbox"
        if let login {
            c.username = login.username
            c.password = login.password
        }
        c.cleanSession = false
        c.sessionExpiryInterval = 7 * 86_400
        c.will = nil
        c.birth = nil
        c.durableReceiver = MQTTDurableReceiver { batch in
            Self.store(batch, classifier: classifier, aggregation: aggregation, outbox: outbox, full: full, alerts: alerts,
                       topics: topics, logger: logger, now: clock.now())
        }
        client = try MQTTClient(configuration: c, logger: logger)
    }

    public func run() async throws {
        client.start()
        // Kept until the client stopped: a dropped subscription unsubscribes.
        var subscriptions: [MQTTSubscription] = []
        // Subscribed once connected, every start: a filter added to the site file since
        // the session began is subscribed too. Retained messages only for new
        // subscriptions (MQTT 5), so a restart does not forward every state again.
        do {
            try await cancelWhenGracefulShutdown { try await self.client.waitUntilConnected() }
            for filter in filters {
                subscriptions.append(try await client.subscribe(
                    filter, options: MQTTSubscribeOptions(qos: .atLeastOnce, retainHandling: .sendIfNewSubscription)))
            }
            subscribed.withLock { $0 = true }
            logger.info("outbox intake subscribed", metadata: ["filters": "\(filters.count)"])
            try? await gracefulShutdown()
        } catch is CancellationError {
        }
        // Not unsubscribed: the broker keeps queueing for the session while we are away.
        await client.shutdown()
        subscriptions.removeAll()
    }

    static let aggregatorKey = "aggregator"

    static func store(_ batch: [MQTTMessage], classifier: StreamClassifier, aggregation: Locked<Aggregator>?, outbox: Outbox,
                      full: Locked<Bool>, alerts: MQTTClient, topics: TopicBuilder, logger: Logger, now: Date) -> Bool {
        let current = aggregation?.withLock { $0 }
        let messages = batch.compactMap { m -> OutboxMessage? in
            // An empty retained message clears a topic: nothing to forward.
            guard !m.payload.isEmpty else { return nil }
            let aggregated = current?.match(topic: m.topic)
            let forwarded = classifier.classify(topic: m.topic)
            guard let stream = aggregated?.stream ?? forwarded?.stream else { return nil }
            return OutboxMessage(
                stream: stream, payload: m.payload, sourceTime: CloudEnvelope.sourceTime(of: m.payload) ?? now,
                class: forwarded?.class ?? .instantaneous, redeliveryKey: OutboxMessage.key(topic: m.topic, payload: m.payload),
                storesRow: aggregated.map { $0.rule.raw ?? false } ?? true)
        }
        // The aggregates advance inside the outbox's transaction and are kept only if it commits.
        var next = current
        let derive: Outbox.Derive? = current.map { start in
            { fresh in
                var a = start
                var out: [OutboxMessage] = []
                for m in fresh {
                    guard let (stream, rule) = a.match(topic: "\(classifier.root)/\(m.stream)") else { continue }
                    do {
                        out += try a.ingest(stream: stream, rule: rule, payload: m.payload).map(Self.message)
                    } catch {
                        logger.warning("reading not aggregated", metadata: ["stream": "\(stream)", "error": "\(error)"])
                    }
                }
                out += a.sweep().map(Self.message)
                next = a
                return (out, (aggregatorKey, Array(try JSONEncoder().encode(a.state))))
            }
        }
        do {
            let outcome = try outbox.append(messages, now: now, derive: derive)
            if let next { aggregation?.withLock { $0 = next } }
            if outcome.thinned > 0 {
                logger.warning("outbox over its bound: instantaneous messages thinned (gap recorded)",
                               metadata: ["thinned": "\(outcome.thinned)", "bytes": "\(outbox.depth.bytes)"])
            }
            if full.withLock({ was in defer { was = false }; return was }) {
                logger.notice("outbox stores again")
                raise(false, "the bridge's outbox stores again", alerts: alerts, topics: topics, now: now)
            }
            return true
        } catch {
            let first = full.withLock { was in defer { was = true }; return !was }
            if first {
                logger.critical("outbox cannot store: not accepting messages (they wait on the site's broker)",
                                metadata: ["error": "\(error)"])
                raise(true, "the bridge's outbox cannot store (\(error)); messages wait on the site's broker", alerts: alerts,
                      topics: topics, now: now)
            }
            return false
        }
    }

    static func message(_ a: AggregateOutput) -> OutboxMessage {
        OutboxMessage(stream: a.stream, payload: a.payload, sourceTime: a.sourceTime, class: a.messageClass)
    }

    static func raise(_ active: Bool, _ message: String, alerts: MQTTClient, topics: TopicBuilder, now: Date) {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.value("bridge_outbox_full")
        w.key("active"); w.value(active)
        w.key("severity"); w.value(active ? "critical" : "info")
        w.key("message"); w.value(message)
        w.key("time"); w.value(ISO8601.format(now, utcOffsetSeconds: 0))
        w.endObject()
        try? alerts.publish(MQTTMessage(topic: topics.alert("bridge_outbox_full"), payload: w.bytes, qos: .atLeastOnce,
                                        properties: .init(contentType: "application/json")))
    }
}
