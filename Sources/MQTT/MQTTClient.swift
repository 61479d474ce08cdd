import Foundation
import Logging
import Synchronization

/// An MQTT 5 / 3.1.1 client over libmosquitto with an async/await face.
///
/// ```swift
/// let client = try MQTTClient(configuration: .init(clientID: "gw"), logger: logger)
/// let readings = try await client.subscribe("phasor/home/meter/+/state")
/// try await client.connect(timeout: .seconds(5))
/// try client.publish(MQTTMessage(topic: "a/b", string: "1", qos: .atLeastOnce))
/// for await m in readings { … }
/// await client.shutdown()
/// ```
///
/// Once started it stays connected by itself: it reconnects with capped exponential
/// backoff, resubscribes, republishes its birth message and flushes what was
/// published while offline (bounded, drops counted). Subscriptions made before
/// `connect` receive what a persistent session delivers right after CONNACK.
public final class MQTTClient: Sendable {
    let session: MosquittoSession

    public init(configuration: MQTTConfiguration, logger: Logger = Logger(label: "phasor.mqtt")) throws(MQTTError) {
        session = try MosquittoSession(configuration: configuration, logger: logger)
    }

    deinit { session.requestStop() }

    public var configuration: MQTTConfiguration { session.configuration }

    /// Starts the connection loop (if not yet started) and waits for the first
    /// CONNACK. A TLS failure or a refusal by the broker throws at once; network
    /// errors are retried until `timeout`, then `MQTTError.timeout` names the last one.
    /// The loop keeps trying in the background either way until `shutdown()`.
    public func connect(timeout: Duration = .seconds(10)) async throws {
        session.start()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.session.waitUntilConnected() }
            group.addTask {
                try await Task.sleep(for: timeout)
                let last = self.session.state.withLock { $0.lastConnectError }
                throw MQTTError.timeout("no connection to \(self.configuration.host):\(self.configuration.port) within \(timeout)" + (last.map { ": \($0)" } ?? ""))
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Waits until connected (the loop must be started). Throws at once on a definitive
    /// failure (TLS, refused) and on shutdown; network failures keep it waiting.
    public func waitUntilConnected() async throws { try await session.waitUntilConnected() }

    /// Starts the connection loop without waiting; failures are logged and reported
    /// on `connectionEvents()`.
    public func start() { session.start() }

    /// Publishes without waiting for the broker: sent now when connected, else kept
    /// in the offline queue. Throws for an invalid topic, a full queue with the
    /// `rejectNew` policy, or after shutdown.
    public func publish(_ message: MQTTMessage) throws(MQTTError) { try session.publish(message) }

    public func publish(_ topic: String, _ payload: String, qos: QoS = .atMostOnce, retain: Bool = false) throws(MQTTError) {
        try session.publish(MQTTMessage(topic: topic, string: payload, qos: qos, retain: retain))
    }

    /// Publishes and returns once the broker acknowledged it (QoS 1: PUBACK, QoS 2:
    /// PUBCOMP) or, for QoS 0, once it was written to the socket.
    public func publishAndWait(_ message: MQTTMessage) async throws { try await session.publishAndWait(message) }

    /// Hands a QoS ≥ 1 message to the connection now, in call order, and returns its
    /// delivery, whose `acknowledged()` returns on the broker's acknowledgement.
    /// Throws when not connected (nothing is queued) or after shutdown. A sender
    /// keeping a window in flight uses this to keep its order.
    public func send(_ message: MQTTMessage) throws(MQTTError) -> MQTTDelivery { try session.send(message) }

    /// Subscribes to a topic filter (`+` and `#` allowed). Iterate the result to
    /// receive; it unsubscribes when iteration ends or the sequence is dropped.
    /// - Parameter buffering: keep at most this many unconsumed messages (newest
    ///   kept); `nil` keeps all, so a slow consumer loses nothing.
    public func subscribe(
        _ filter: String, options: MQTTSubscribeOptions = MQTTSubscribeOptions(), buffering: Int? = nil
    ) async throws -> MQTTSubscription {
        let topicFilter = try TopicFilter(filter)
        let (id, owner) = try await session.subscribe(topicFilter, options: options, buffering: buffering)
        return MQTTSubscription(filter: topicFilter, id: id, owner: owner, session: session)
    }

    public func subscribe(_ filter: String, qos: QoS) async throws -> MQTTSubscription {
        try await subscribe(filter, options: MQTTSubscribeOptions(qos: qos))
    }

    /// Connection events (connected, lost, failed attempts) from now on.
    public func connectionEvents() -> AsyncStream<MQTTConnectionEvent> { session.addEventListener() }

    public var statistics: MQTTStatistics { session.statistics }

    /// MQTT 5: the Receive Maximum the broker announced in its last CONNACK (how
    /// many QoS ≥ 1 messages it takes in flight from us); nil when it sent none.
    public var serverReceiveMaximum: Int? { session.events.withLock { $0.serverReceiveMaximum } }

    /// Cuts the connection without a DISCONNECT, as a network loss would: the client
    /// reconnects with its backoff and, on a resumed session, libmosquitto sends the
    /// unacknowledged QoS ≥ 1 messages again (their `MQTTDelivery` completes on the new
    /// connection's acknowledgement). For a connection that stays up but stopped
    /// acknowledging.
    public func dropConnection() { session.dropRequested.store(true, ordering: .releasing) }

    public var isConnected: Bool { session.state.withLock { $0.phase == .connected } }

    /// Waits until every QoS ≥ 1 message handed over so far is acknowledged and the
    /// offline queue is empty; returns `false` if that did not happen within `timeout`.
    @discardableResult
    public func flush(timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while session.outstanding > 0 {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Graceful shutdown: publishes `finalMessage` (e.g. a retained `offline`), lets
    /// in-flight QoS ≥ 1 messages complete (up to 3 s), then disconnects cleanly so
    /// the broker does not publish the will.
    public func shutdown(finalMessage: MQTTMessage? = nil) async {
        await session.stop(finalMessage: finalMessage)
    }
}

/// The messages of one subscription, as an async sequence.
public struct MQTTSubscription: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage
    public let filter: TopicFilter
    let id: UUID
    let owner: MessageChannel.Owner
    let session: MosquittoSession

    init(filter: TopicFilter, id: UUID, owner: MessageChannel.Owner, session: MosquittoSession) {
        self.filter = filter
        self.id = id
        self.owner = owner
        self.session = session
    }

    public func makeAsyncIterator() -> Iterator { Iterator(owner: owner, cursor: MessageChannel.Cursor(owner.channel)) }

    /// Ends the subscription now (iteration finishes).
    public func cancel() { session.unsubscribe(id) }

    /// Serves a burst taken from the subscription's channel in one go, then asks for
    /// the next (see `MessageChannel`). An iterator dropped before the end of its burst
    /// (a `for await` left with `break` or `return`) gives the rest back to the
    /// subscription, so the next iteration starts where this one stopped.
    public struct Iterator: AsyncIteratorProtocol {
        let owner: MessageChannel.Owner
        let cursor: MessageChannel.Cursor

        public mutating func next() async -> MQTTMessage? {
            if let message = cursor.burst.popFirst() { return message }
            cursor.burst = await owner.channel.take()
            return cursor.burst.popFirst()
        }
    }
}
