import CMosquitto
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

extension MosquittoSession {
    /// The loop thread: connect, pump libmosquitto, react to CONNACK and loss, back off.
    func runLoop() {
        var attempt = 0
        var socketOpen = false
        var connected = false
        while !stopFlag.load(ordering: .acquiring) {
            if !socketOpen {
                let rc = openSocket()
                if rc != MOSQ_ERR_SUCCESS.rawValue {
                    connectionFailed(classify(rc), attempt: &attempt)
                    continue
                }
                socketOpen = true
            }
            if dropRequested.exchange(false, ordering: .acquiringAndReleasing), mosquitto_socket(handle) >= 0 {
                // `dropConnection()`: cut without DISCONNECT; the read below sees the loss.
                _ = cutSocket(mosquitto_socket(handle))
            }
            let rc = configuration.durableReceiver.map(pumpDurably) ?? turn()
            let (connack, disconnectCode) =
                connectionNews.exchange(false, ordering: .acquiringAndReleasing)
                ? events.withLock { e in
                    defer { e.connack = nil; e.disconnectCode = nil }
                    return (e.connack, e.disconnectCode)
                } : (nil, nil)
            if let connack {
                if connack.code == 0 {
                    attempt = 0
                    connected = true
                    didConnect(sessionPresent: connack.sessionPresent)
                } else {
                    let reason = String(cString: mosquitto_reason_string(connack.code))
                    mosquitto_disconnect(handle)
                    _ = mosquitto_loop(handle, 10, 1)
                    socketOpen = false
                    connectionFailed(.connectionRefused(code: Int(connack.code), reason: reason), attempt: &attempt)
                    continue
                }
            }
            if rc != MOSQ_ERR_SUCCESS.rawValue || disconnectCode != nil {
                socketOpen = false
                if connected {
                    connected = false
                    connectionLost(reason: describeLoss(rc: rc, disconnectCode: disconnectCode))
                    // Retry at once after a loss: the broker may be back already.
                    if stopFlag.load(ordering: .acquiring) { break }
                    sleepInterruptibly(configuration.reconnect.initialDelay)
                } else {
                    connectionFailed(classify(rc == MOSQ_ERR_SUCCESS.rawValue ? MOSQ_ERR_CONN_LOST.rawValue : rc), attempt: &attempt)
                }
            }
        }
        shutDown(socketOpen: socketOpen && connected)
    }

    /// One turn of the loop for a durable receiver: read what arrived (the callbacks
    /// collect it), store it, and only then write — the PUBACKs libmosquitto queued
    /// while reading leave after the store returned. libmosquitto in threaded mode
    /// never writes from inside a callback (`packet__queue`), so nothing is
    /// acknowledged before it is stored. A publish from another thread waits at most
    /// the poll interval (10 ms) to be written.
    /// One turn: wait for the socket (≤ 50 ms) and serve it, read on while more packets
    /// are already waiting (bounded), then hand what was routed to the streams. libmosquitto
    /// reads one QoS 0 packet per `select`, and a yield per message woke a parked consumer
    /// per message: context switches were the largest cost of receiving (issue 15).
    /// Handed over per burst, a consumer wakes once and drains the burst.
    private func turn() -> Int32 {
        batchingTurn = true
        defer {
            batchingTurn = false
            if !inbox.isEmpty {
                handOverInbox()
                inbox.removeAll(keepingCapacity: true)
            }
        }
        var rc = mosquitto_loop(handle, 50, 1)
        let fd = mosquitto_socket(handle)
        var reads = 0
        while rc == MOSQ_ERR_SUCCESS.rawValue, fd >= 0, reads < 256 {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 0) > 0, p.revents & Int16(POLLIN) != 0 else { break }
            rc = mosquitto_loop_read(handle, 1)
            reads += 1
        }
        return rc
    }

    /// Hands each channel its run of the turn's messages in one `yield` (one lock, one
    /// wake-up); messages keep their order per channel.
    private func handOverInbox() {
        var start = 0
        while start < inbox.count {
            let channel = inbox[start].0
            var end = start + 1
            while end < inbox.count, inbox[end].0 === channel { end += 1 }
            channel.yield(contentsOf: inbox[start..<end].lazy.map(\.1))
            start = end
        }
    }

    private func pumpDurably(_ receiver: MQTTDurableReceiver) -> Int32 {
        let fd = mosquitto_socket(handle)
        guard fd >= 0 else { return MOSQ_ERR_NO_CONN.rawValue }
        let readable = Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)
        var p = pollfd(fd: fd, events: Int16(POLLIN) | (mosquitto_want_write(handle) ? Int16(POLLOUT) : 0), revents: 0)
        _ = poll(&p, 1, 10)
        var rc = MOSQ_ERR_SUCCESS.rawValue
        if p.revents & readable != 0 {
            // Read the whole burst (bounded), so one commit covers it.
            var reads = 0
            repeat {
                rc = mosquitto_loop_read(handle, 1)
                reads += 1
                p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            } while rc == MOSQ_ERR_SUCCESS.rawValue && reads < 1024 && poll(&p, 1, 0) > 0 && p.revents & readable != 0
        }
        let batch = events.withLock { e -> [MQTTMessage] in
            defer { e.durableBatch.removeAll(keepingCapacity: true) }
            return e.durableBatch
        }
        if !batch.isEmpty && !receiver.store(batch) {
            // Not stored: their PUBACKs must never leave. Cut the connection; the broker
            // keeps them for the persistent session and delivers them again.
            logger.debug("received messages could not be stored: dropping the connection unacknowledged",
                         metadata: ["messages": "\(batch.count)"])
            _ = cutSocket(fd)
            return MOSQ_ERR_CONN_LOST.rawValue
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue && mosquitto_want_write(handle) { rc = mosquitto_loop_write(handle, 1) }
        let misc = mosquitto_loop_misc(handle)
        return rc != MOSQ_ERR_SUCCESS.rawValue ? rc : misc
    }

    private func cutSocket(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        return Glibc.shutdown(fd, Int32(SHUT_RDWR))
        #else
        return Darwin.shutdown(fd, SHUT_RDWR)
        #endif
    }

    private func openSocket() -> Int32 {
        var props: OpaquePointer? = nil
        if configuration.protocolVersion == .v5 && !configuration.cleanSession {
            mosquitto_property_add_int32(
                &props, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), configuration.sessionExpiryInterval)
        }
        defer { mosquitto_property_free_all(&props) }
        events.withLock { $0.lastLibraryError = nil }
        return mosquitto_connect_bind_v5(
            handle, configuration.host, Int32(configuration.port), Int32(configuration.keepAlive), nil, props)
    }

    /// After CONNACK: resubscribe (into a session the broker kept, only what it has not
    /// granted in it), publish the
    /// birth message, then flush the offline queue, in that order, before new
    /// publishes go straight out (they queue behind the flush under the state lock).
    ///
    /// The resubscribe list is taken under the state lock, in the same hold that makes
    /// the session connected, because `subscribe` adds its route first and then reads
    /// the phase under that lock: a route added before the list is in it, and one added
    /// after sees `.connected` and sends its own SUBSCRIBE. Taken before that hold (as
    /// it was), a subscription made in between was sent by neither — it took the
    /// session for offline, "subscribed on connect" — and silently never received
    /// anything (issue 15: the bridge's cloud commands, subscribed right after start,
    /// went unanswered in the parallel test suite; `SubscribeWhileConnectingTests`).
    private func didConnect(sessionPresent: Bool) {
        setLibraryLog(enabled: false)
        let keptSession = sessionPresent && !configuration.cleanSession
        let (waiters, queued, failed) = state.withLock {
            s -> ([CheckedContinuation<Void, any Error>], [MQTTMessage], [(filter: String, rc: Int32)]) in
            var failed: [(filter: String, rc: Int32)] = []
            // A new session: every filter. A kept one: those the broker has not granted in it
            // (first subscribed while offline, at a higher QoS since, or sent on a connection
            // that died before its SUBACK), and the ones nobody needs any more go.
            let (subscribe, unsubscribe) = events.withLock { e -> ([RoutingTable.BrokerSubscription], [String]) in
                if !keptSession { e.granted.removeAll() }
                let wanted = e.routes.brokerSubscriptions
                let unused = e.granted.subtracting(wanted.map(\.filter))
                e.granted.subtract(unused)
                return (wanted.filter { !e.granted.contains($0.filter) }, Array(unused))
            }
            for sub in subscribe {
                let rc = sendSubscribe(sub.filter, qos: sub.qos, flags: sub.flags, identifier: sub.identifier).rc
                if rc != MOSQ_ERR_SUCCESS.rawValue { failed.append((sub.filter, rc)) }
            }
            for filter in unsubscribe {
                var mid: Int32 = 0
                _ = mosquitto_unsubscribe_v5(handle, &mid, filter, nil)
            }
            beforeConnectedHook?()
            if let birth = configuration.birth { _ = sendLocked(birth, state: &s) }
            let queued = s.queue.drain()
            for m in queued { _ = sendLocked(m, state: &s) }
            s.phase = .connected
            s.stats.connections += 1
            s.lastConnectError = nil
            let w = Array(s.connectWaiters.values)
            s.connectWaiters.removeAll()
            return (w, queued, failed)
        }
        for r in failed {
            logger.warning("resubscribe failed", metadata: ["filter": "\(r.filter)", "error": "\(String(cString: mosquitto_strerror(r.rc)))"])
        }
        logger.info(
            "MQTT connected",
            metadata: [
                "broker": "\(configuration.host):\(configuration.port)", "session_present": "\(sessionPresent)",
                "flushed": "\(queued.count)",
            ])
        for w in waiters { w.resume() }
        emit(.connected(sessionPresent: sessionPresent))
    }

    private func connectionLost(reason: String) {
        setLibraryLog(enabled: true)
        state.withLock { s in
            if s.phase == .connected { s.phase = .connecting }
            s.stats.connectionFailures += 1
            s.stats.lastError = reason
        }
        let (subWaiters, lostQoS0) = events.withLock { e -> ([CheckedContinuation<[Int32], any Error>], Int) in
            // QoS 0 messages still in libmosquitto's packet queue die with the socket.
            let lost = e.pending.removeAtMostOnce()
            e.earlyCompletions.removeAll()
            e.earlySubacks.removeAll()
            e.subscribing.removeAll()  // not granted, as far as we know: sent again on connect
            let w = Array(e.subscribeWaiters.values)
            e.subscribeWaiters.removeAll()
            return (w, lost)
        }
        // Subscriptions are re-sent on reconnect: a subscriber need not wait for that.
        for w in subWaiters { w.resume(returning: []) }
        logger.warning("MQTT connection lost", metadata: ["reason": "\(reason)", "qos0_lost": "\(lostQoS0)"])
        emit(.disconnected(reason: reason))
    }

    private func connectionFailed(_ error: MQTTError, attempt: inout Int) {
        let delay = jittered(configuration.reconnect.baseDelay(attempt: attempt))
        attempt += 1
        let definitive: Bool
        switch error {
        case .tls, .connectionRefused: definitive = true
        default: definitive = false
        }
        let waiters = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.stats.connectionFailures += 1
            s.stats.lastError = error.description
            s.lastConnectError = error
            guard definitive else { return [] }
            let w = Array(s.connectWaiters.values)
            s.connectWaiters.removeAll()
            return w
        }
        for w in waiters { w.resume(throwing: error) }
        logger.error(
            "MQTT connect failed",
            metadata: [
                "broker": "\(configuration.host):\(configuration.port)", "error": "\(error)",
                "retry_in_ms": "\(Int(delay.seconds * 1000))",
            ])
        emit(.connectFailed(error))
        sleepInterruptibly(delay)
    }

    private func jittered(_ d: Duration) -> Duration {
        let j = configuration.reconnect.jitter
        guard j > 0 else { return d }
        return .seconds(d.seconds * Double.random(in: (1 - j)...(1 + j)))
    }

    private func sleepInterruptibly(_ d: Duration) {
        let deadline = ContinuousClock.now + d
        while ContinuousClock.now < deadline && !stopFlag.load(ordering: .acquiring) {
            usleep(10_000)
        }
    }

    /// Graceful stop: final message, let QoS ≥ 1 complete (bounded), DISCONNECT.
    private func shutDown(socketOpen: Bool) {
        let final = state.withLock { s -> MQTTMessage? in
            s.phase = .stopping
            return s.finalMessage
        }
        if socketOpen {
            if let final { _ = state.withLock { s in sendLocked(final, state: &s) } }
            let deadline = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < deadline,
                events.withLock({ !$0.pending.isEmpty })
            {
                if mosquitto_loop(handle, 20, 1) != MOSQ_ERR_SUCCESS.rawValue { break }
            }
            mosquitto_disconnect(handle)
            let end = ContinuousClock.now + .seconds(1)
            while ContinuousClock.now < end, events.withLock({ $0.disconnectCode == nil }) {
                if mosquitto_loop(handle, 20, 1) != MOSQ_ERR_SUCCESS.rawValue { break }
            }
        }
        let (connectWaiters, stopWaiters, listeners) = state.withLock { s in
            s.phase = .stopped
            defer {
                s.connectWaiters.removeAll()
                s.stopWaiters.removeAll()
                s.eventListeners.removeAll()
            }
            return (Array(s.connectWaiters.values), s.stopWaiters, Array(s.eventListeners.values))
        }
        let (publishWaiters, subscribeWaiters, routes, deliveries) = events.withLock { e in
            defer {
                e.deliveries.removeAll()
                e.publishWaiters.removeAll()
                e.subscribeWaiters.removeAll()
            }
            return (Array(e.publishWaiters.values), Array(e.subscribeWaiters.values), e.routes.removeAll(), Array(e.deliveries.values))
        }
        for w in connectWaiters { w.resume(throwing: MQTTError.shutDown) }
        for w in publishWaiters { w.resume(throwing: MQTTError.shutDown) }
        for d in deliveries { d.complete(.failure(.shutDown)) }
        for w in subscribeWaiters { w.resume(throwing: MQTTError.shutDown) }
        for r in routes { r.finish() }
        for l in listeners { l.finish() }
        logger.info("MQTT client stopped", metadata: ["client_id": "\(configuration.clientID)"])
        for w in stopWaiters { w.resume() }
    }

    // MARK: Errors

    func classify(_ rc: Int32) -> MQTTError {
        let logged = events.withLock { $0.lastLibraryError }
        let text = String(cString: mosquitto_strerror(rc))
        switch rc {
        case MOSQ_ERR_TLS.rawValue, MOSQ_ERR_TLS_HANDSHAKE.rawValue:
            return .tls(logged ?? text)
        case MOSQ_ERR_ERRNO.rawValue:
            let e = String(cString: strerror(errno))
            if let logged, logged.contains("OpenSSL") { return .tls(logged) }
            return .network(e)
        case MOSQ_ERR_EAI.rawValue, MOSQ_ERR_LOOKUP.rawValue:
            return .network("cannot resolve host '\(configuration.host)'")
        case MOSQ_ERR_CONN_LOST.rawValue, MOSQ_ERR_NO_CONN.rawValue, MOSQ_ERR_PROTOCOL.rawValue:
            if let logged, logged.contains("OpenSSL") || logged.contains("certificate") { return .tls(logged) }
            return .network(logged ?? text)
        default:
            return .library(code: rc, message: logged ?? text)
        }
    }

    private func describeLoss(rc: Int32, disconnectCode: Int32?) -> String {
        // The disconnect callback reports a MOSQ_ERR code, not an MQTT reason code.
        if let code = disconnectCode, code != 0 {
            return String(cString: mosquitto_strerror(code))
        }
        return String(cString: mosquitto_strerror(rc == MOSQ_ERR_SUCCESS.rawValue ? MOSQ_ERR_CONN_LOST.rawValue : rc))
    }
}
