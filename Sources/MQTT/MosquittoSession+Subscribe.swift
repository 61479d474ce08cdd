import CMosquitto
import Foundation

extension MosquittoSession {
    /// Registers a local route and subscribes at the broker when connected (else on
    /// connect). Returns once the broker granted it, or at once when offline.
    func subscribe(_ filter: TopicFilter, options: MQTTSubscribeOptions, buffering: Int?)
        async throws -> (UUID, MessageChannel.Owner)
    {
        let channel = MessageChannel(bufferingNewest: buffering)
        // Dropped (a throw below, or later by the subscriber): the channel ends, and
        // its termination removes the route.
        let owner = MessageChannel.Owner(channel)
        let id = UUID()
        channel.onTermination { [weak self] in self?.unsubscribe(id) }
        let needsBroker = events.withLock { e in
            e.routes.add(id: id, RoutingTable.Route(filter: filter, options: options, channel: channel))
        }
        guard needsBroker else { return (id, owner) }
        let identifier = events.withLock { $0.routes.identifier(of: filter) }
        let codes: [Int32] = try await withCheckedThrowingContinuation { waiter in
            let rc: Int32? = state.withLock { s in
                // Offline, or the connection just died under us (the loop thread has not seen
                // it yet): subscribed on connect — also into a session the broker kept, where
                // it may hold this filter at a lower QoS or not at all.
                func onConnect() -> Int32? {
                    events.withLock { _ = $0.granted.remove(filter.filter) }
                    return nil
                }
                guard s.phase == .connected else { return onConnect() }
                let (rc, mid) = sendSubscribe(filter.filter, qos: options.qos, flags: options.v5Flags, identifier: identifier)
                if rc == MOSQ_ERR_NO_CONN.rawValue || rc == MOSQ_ERR_CONN_LOST.rawValue { return onConnect() }
                guard rc == MOSQ_ERR_SUCCESS.rawValue else { return rc }
                let early = events.withLock { e -> [Int32]? in
                    if let codes = e.earlySubacks.removeValue(forKey: mid) {
                        if codes.allSatisfy({ $0 < 0x80 }) { e.granted.insert(filter.filter) }
                        return codes
                    }
                    e.subscribeWaiters[mid] = waiter
                    return nil
                }
                if let early { waiter.resume(returning: early) }
                return rc
            }
            switch rc {
            case nil: waiter.resume(returning: [])  // offline: subscribed on connect
            case MOSQ_ERR_SUCCESS.rawValue?: break
            case let rc?: waiter.resume(throwing: MQTTError.library(code: rc, message: String(cString: mosquitto_strerror(rc))))
            }
        }
        if let code = codes.first, code >= 0x80 {
            // The route goes now, not when the stream's termination gets to it: a subscribe of
            // the same filter right after would find it and take the filter for subscribed.
            _ = events.withLock { $0.routes.remove(id: id) }
            channel.finish()
            throw MQTTError.subscriptionRefused(filter: filter.filter, code: Int(code))
        }
        return (id, owner)
    }

    /// Sends SUBSCRIBE; on MQTT 5 with the options and the routing identifier.
    func sendSubscribe(_ filter: String, qos: QoS, flags: Int32, identifier: UInt32) -> (rc: Int32, mid: Int32) {
        var mid: Int32 = 0
        guard configuration.protocolVersion == .v5 else {
            let rc = mosquitto_subscribe_v5(handle, &mid, filter, qos.rawValue, 0, nil)
            if rc == MOSQ_ERR_SUCCESS.rawValue { events.withLock { $0.subscribing[mid] = filter } }
            return (rc, mid)
        }
        var props: OpaquePointer? = nil
        if identifier > 0 {
            mosquitto_property_add_varint(&props, Int32(MQTT_PROP_SUBSCRIPTION_IDENTIFIER.rawValue), identifier)
        }
        defer { mosquitto_property_free_all(&props) }
        let rc = mosquitto_subscribe_v5(handle, &mid, filter, qos.rawValue, flags, props)
        if rc == MOSQ_ERR_SUCCESS.rawValue { events.withLock { $0.subscribing[mid] = filter } }
        return (rc, mid)
    }

    /// Ends a subscription: finishes its stream (iteration ends) and unsubscribes
    /// at the broker when no other local subscriber needs the filter.
    func unsubscribe(_ id: UUID) {
        let (channel, unused) = events.withLock { $0.routes.remove(id: id) }
        channel?.finish()
        guard let filter = unused else { return }
        state.withLock { s in
            // Offline, a kept session still holds it: unsubscribed on connect (`didConnect`).
            guard s.phase == .connected else { return }
            var mid: Int32 = 0
            if mosquitto_unsubscribe_v5(handle, &mid, filter, nil) == MOSQ_ERR_SUCCESS.rawValue {
                events.withLock { _ = $0.granted.remove(filter) }
            }
        }
    }
}
