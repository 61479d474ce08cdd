import CMosquitto
import Foundation
import Logging

extension MosquittoSession {
    enum SendOutcome {
        /// Handed to libmosquitto with this message id.
        case sent(mid: Int32)
        case queuedOffline
        case failed(MQTTError)
    }

    /// Publishes without waiting: straight out when connected, else into the offline queue.
    func publish(_ message: MQTTMessage) throws(MQTTError) {
        try validate(topic: message.topic)
        let outcome = state.withLock { s -> SendOutcome in
            switch s.phase {
            case .connected:
                return sendLocked(message, state: &s)
            case .stopping, .stopped:
                return .failed(.shutDown)
            case .idle, .connecting:
                return enqueueLocked(message, state: &s)
            }
        }
        if case .failed(let error) = outcome { throw error }
    }

    /// Publishes and waits until the broker acknowledged it (QoS 1/2) or it was
    /// written to the socket (QoS 0). While offline, waits for the connection first.
    func publishAndWait(_ message: MQTTMessage) async throws {
        try validate(topic: message.topic)
        while true {
            try Task.checkCancellation()
            let retry: Bool = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
                let outcome = state.withLock { s -> SendOutcome in
                    switch s.phase {
                    case .connected: return sendLocked(message, state: &s, waiter: continuation)
                    case .stopping, .stopped: return .failed(.shutDown)
                    case .idle, .connecting: return .queuedOffline
                    }
                }
                switch outcome {
                case .sent: break  // the waiter is resumed by the completion callback
                case .failed(let error): continuation.resume(throwing: error)
                case .queuedOffline: continuation.resume(returning: true)
                }
            }
            if !retry { return }
            try await waitUntilConnected()
        }
    }

    /// Hands a message to libmosquitto now (in call order) when connected; its
    /// acknowledgement is awaited on the returned delivery. Throws when not connected.
    func send(_ message: MQTTMessage) throws(MQTTError) -> MQTTDelivery {
        try validate(topic: message.topic)
        let delivery = MQTTDelivery()
        let outcome = state.withLock { s -> SendOutcome in
            switch s.phase {
            case .connected: return sendLocked(message, state: &s, delivery: delivery)
            case .stopping, .stopped: return .failed(.shutDown)
            case .idle, .connecting: return .failed(.network("not connected"))
            }
        }
        switch outcome {
        case .sent: return delivery
        case .failed(let error): throw error
        case .queuedOffline: throw .network("not connected")
        }
    }

    private func validate(topic: String) throws(MQTTError) {
        // A byte scan over the string's own storage: `String.contains` goes through
        // Foundation's string search (a fifth of a QoS 0 publish, issue 15), and even
        // iterating `topic.utf8` cost ~65 ns per call for a short topic.
        let verdict = topic.utf8.withContiguousStorageIfAvailable(Self.topicVerdict) ?? Self.topicVerdict(Array(topic.utf8))
        switch verdict {
        case .valid: return
        case .empty: throw .invalidTopic(topic, reason: "empty")
        case .wildcard: throw .invalidTopic(topic, reason: "wildcards are not allowed in a topic name")
        case .tooLong: throw .invalidTopic(topic, reason: "longer than 65535 bytes")
        }
    }

    private enum TopicVerdict { case valid, empty, wildcard, tooLong }

    private static func topicVerdict<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> TopicVerdict {
        if bytes.isEmpty { return .empty }
        for byte in bytes where byte == UInt8(ascii: "+") || byte == UInt8(ascii: "#") { return .wildcard }
        return bytes.count > 65_535 ? .tooLong : .valid
    }

    private func enqueueLocked(_ message: MQTTMessage, state s: inout State) -> SendOutcome {
        switch s.queue.push(message) {
        case .queued:
            return .queuedOffline
        case .queuedDroppingOldest:
            logDrop(total: s.queue.droppedCount, policy: "dropped oldest")
            return .queuedOffline
        case .rejected:
            logDrop(total: s.queue.droppedCount, policy: "rejected new")
            return .failed(.offlineQueueFull(capacity: s.queue.policy.capacity))
        }
    }

    /// Logs the first drop and then every thousandth, so an outage cannot flood the log.
    private func logDrop(total: UInt64, policy: String) {
        if total == 1 || total % 1000 == 0 {
            logger.warning(
                "MQTT offline queue full: message \(policy)",
                metadata: ["dropped_total": "\(total)", "capacity": "\(configuration.offlineQueue.capacity)"])
        }
    }

    /// Calls `mosquitto_publish_v5`. Must be called with the state lock held (so the
    /// offline-queue flush and new publishes keep their order).
    func sendLocked(
        _ message: MQTTMessage, state s: inout State, waiter: CheckedContinuation<Bool, any Error>? = nil,
        delivery: MQTTDelivery? = nil
    ) -> SendOutcome {
        var props =
            configuration.protocolVersion == .v5 && !message.properties.isEmpty
            ? MosquittoProperties.make(message.properties) : nil
        defer { if props != nil { mosquitto_property_free_all(&props) } }
        // QoS ≥ 1 (for `flush` and shutdown) and waited-for messages are tracked by mid;
        // a plain QoS 0 publish is not, so the hot telemetry path takes no second lock.
        let tracked = message.qos != .atMostOnce || waiter != nil || delivery != nil
        if tracked { events.withLock { $0.registering += 1 } }
        var mid: Int32 = 0
        // `withCString` explicitly: passing the String straight to the C parameter
        // copies a short (small-string) topic into a heap array on every publish.
        let rc = message.topic.withCString { topic in
            message.payload.withUnsafeBytes { raw in
                mosquitto_publish_v5(
                    handle, &mid, topic, Int32(message.payload.count), raw.baseAddress, message.qos.rawValue,
                    message.retain, props)
            }
        }
        let connectionGone = rc == MOSQ_ERR_NO_CONN.rawValue || rc == MOSQ_ERR_CONN_LOST.rawValue
        switch rc {
        case MOSQ_ERR_SUCCESS.rawValue:
            break
        case _ where connectionGone && message.qos == .atMostOnce:
            // QoS 0 is gone unless we keep it. (QoS ≥ 1 was queued by libmosquitto before
            // it tried to send, and is resent after reconnecting: success below.)
            if tracked { events.withLock { $0.registering -= 1 } }
            if let delivery {
                delivery.complete(.failure(.network("not connected")))
                return .failed(.network("not connected"))
            }
            let outcome = enqueueLocked(message, state: &s)
            waiter?.resume(returning: true)
            return outcome
        case _ where connectionGone:
            break
        default:
            if tracked { events.withLock { $0.registering -= 1 } }
            let error = MQTTError.library(code: rc, message: String(cString: mosquitto_strerror(rc)))
            waiter?.resume(throwing: error)
            delivery?.complete(.failure(error))
            return .failed(error)
        }
        s.stats.published += 1
        guard tracked else { return .sent(mid: mid) }
        // Register the mid; its completion may already have arrived.
        let early: Int32? = events.withLock { e in
            e.registering -= 1
            // (Emptiness checked first: hashing a mid per publish showed in the profile.)
            if !e.earlyCompletions.isEmpty {
                defer { if e.registering == 0 { e.earlyCompletions.removeAll(keepingCapacity: true) } }
                if let code = e.earlyCompletions.removeValue(forKey: mid) { return code }
            }
            e.pending.insert(mid, qos: message.qos)
            if let waiter { e.publishWaiters[mid] = waiter }
            if let delivery { e.deliveries[mid] = delivery }
            return nil
        }
        if let code = early, let delivery {
            delivery.complete(code >= 0x80
                ? .failure(.library(code: code, message: "broker refused the publish: \(String(cString: mosquitto_reason_string(code)))"))
                : .success(()))
        }
        if let code = early, let waiter {
            if code >= 0x80 {
                waiter.resume(throwing: MQTTError.library(code: code, message: "broker refused the publish: \(String(cString: mosquitto_reason_string(code)))"))
            } else {
                waiter.resume(returning: false)
            }
        }
        return .sent(mid: mid)
    }
}
