import CMosquitto
import Foundation
import Logging

/// libmosquitto's C callbacks. They run on the loop thread, take only the `events`
/// lock, copy what they need (the C buffers die when they return) and never block.
extension MosquittoSession {
    private static func session(_ userdata: UnsafeMutableRawPointer?) -> MosquittoSession? {
        guard let userdata else { return nil }
        return Unmanaged<MosquittoSession>.fromOpaque(userdata).takeUnretainedValue()
    }

    func installCallbacks() {
        mosquitto_connect_v5_callback_set(handle) { _, userdata, rc, flags, props in
            let receiveMaximum = MosquittoProperties.receiveMaximum(props)
            guard let session = MosquittoSession.session(userdata) else { return }
            session.events.withLock {
                $0.connack = (rc, flags & 1 == 1)
                $0.serverReceiveMaximum = receiveMaximum
            }
            session.connectionNews.store(true, ordering: .releasing)
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, userdata, rc, _ in
            guard let session = MosquittoSession.session(userdata) else { return }
            session.events.withLock { $0.disconnectCode = rc }
            session.connectionNews.store(true, ordering: .releasing)
        }
        mosquitto_publish_v5_callback_set(handle) { _, userdata, mid, reasonCode, _ in
            // Called once per message: borrow the session without retaining it (it owns
            // the handle, so it outlives every callback).
            guard let userdata else { return }
            Unmanaged<MosquittoSession>.fromOpaque(userdata)._withUnsafeGuaranteedRef {
                $0.didComplete(mid: mid, reasonCode: reasonCode)
            }
        }
        mosquitto_subscribe_v5_callback_set(handle) { _, userdata, mid, count, granted, _ in
            let codes = (0..<Int(count)).map { granted?[$0] ?? 0x80 }
            MosquittoSession.session(userdata)?.didSubscribe(mid: mid, codes: codes)
        }
        mosquitto_message_v5_callback_set(handle) { _, userdata, message, props in
            guard let message, let session = MosquittoSession.session(userdata) else { return }
            session.didReceive(message.pointee, props: props)
        }
        setLibraryLog(enabled: true)
    }

    /// libmosquitto formats a debug line for every packet while a log callback is
    /// installed (7 % of a QoS 0 publish, issue 15). We read its log only to explain
    /// a failed connect (TLS, refused socket), so it is installed while connecting
    /// and removed once connected (`didConnect`), installed again on a loss.
    func setLibraryLog(enabled: Bool) {
        guard enabled else {
            mosquitto_log_callback_set(handle, nil)
            return
        }
        mosquitto_log_callback_set(handle) { _, userdata, level, text in
            guard let text, level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0 else { return }
            let line = String(cString: text)
            MosquittoSession.session(userdata)?.events.withLock { $0.lastLibraryError = line }
        }
    }

    private func didComplete(mid: Int32, reasonCode: Int32) {
        // One lock and no waiter look-up for the common case (an untracked QoS 0, or a
        // tracked message nobody waits for): optional continuations are of a resilient
        // type, and handling them cost runtime metadata calls per message (issue 15).
        let waited = events.withLock { e -> Bool in
            e.completed += 1
            guard e.pending.remove(mid) != nil else {
                // Untracked QoS 0, or a tracked publish whose mid is not registered yet.
                if e.registering > 0 { e.earlyCompletions[mid] = reasonCode }
                return false
            }
            return !e.publishWaiters.isEmpty || !e.deliveries.isEmpty
        }
        guard waited else { return }
        // The mid is no longer pending, so nothing else takes its waiter (a shutdown in
        // between resumes it itself, and the lookup below then finds nothing).
        let (waiter, delivery) = events.withLock { e in
            (e.publishWaiters.removeValue(forKey: mid), e.deliveries.removeValue(forKey: mid))
        }
        let refusal = reasonCode >= 0x80
            ? MQTTError.library(code: reasonCode, message: "broker refused the publish: \(String(cString: mosquitto_reason_string(reasonCode)))")
            : nil
        delivery?.complete(refusal.map { .failure($0) } ?? .success(()))
        guard let waiter else { return }
        if let refusal {
            waiter.resume(throwing: refusal)
        } else {
            waiter.resume(returning: false)
        }
    }

    private func didSubscribe(mid: Int32, codes: [Int32]) {
        let refused = codes.contains { $0 >= 0x80 }
        let (waiter, filter, ended) = events.withLock { e -> (CheckedContinuation<[Int32], any Error>?, String?, [MessageChannel]) in
            let filter = e.subscribing.removeValue(forKey: mid)
            if let filter, !refused { e.granted.insert(filter) }
            if let w = e.subscribeWaiters.removeValue(forKey: mid) { return (w, filter, []) }
            // A SUBSCRIBE nobody waits for: sent on connect, for a subscription made while
            // offline or made before. Refused, its subscribers would wait forever for messages
            // the broker never sends: their streams end instead (the subscriber sees it and
            // may subscribe again).
            // (Kept as an early SUBACK too: a `subscribe` that sent it and has not registered
            // its waiter yet finds it there.)
            if e.earlySubacks.count > 256 { e.earlySubacks.removeAll() }  // resubscribes nobody waits for
            e.earlySubacks[mid] = codes
            guard refused, let filter else { return (nil, filter, []) }
            return (nil, filter, e.routes.removeAll(filter: filter))
        }
        if let waiter { return waiter.resume(returning: codes) }
        if refused, let filter {
            logger.warning(
                "broker refused a subscription", metadata: ["filter": "\(filter)", "reason": "\(codes.map { String($0, radix: 16) })"])
        }
        for channel in ended { channel.finish() }
    }

    private func didReceive(_ m: mosquitto_message, props: OpaquePointer?) {
        let topic = String(cString: m.topic)
        let payload: [UInt8] =
            m.payloadlen > 0 && m.payload != nil
            ? Array(UnsafeRawBufferPointer(start: m.payload, count: Int(m.payloadlen))) : []
        let message = MQTTMessage(
            topic: topic, payload: payload, qos: QoS(rawValue: m.qos) ?? .atMostOnce, retain: m.retain,
            properties: configuration.protocolVersion == .v5 ? MosquittoProperties.read(props) : MQTTPublishProperties())
        if configuration.durableReceiver != nil {
            // Stored before the loop writes the PUBACK (`pumpDurably`).
            events.withLock { e in
                e.received += 1
                e.durableBatch.append(message)
            }
            return
        }
        let ids = MosquittoProperties.subscriptionIdentifiers(props)
        let targets = events.withLock { e -> [MessageChannel] in
            e.received += 1
            let t = e.routes.matching(topic, subscriptionIdentifiers: ids)
            if t.isEmpty { e.unrouted += 1 }
            return t
        }
        if batchingTurn {
            for t in targets { inbox.append((t, message)) }
        } else {
            for t in targets { t.yield(message) }
        }
    }
}
