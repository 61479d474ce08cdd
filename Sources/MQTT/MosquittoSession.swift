import CMosquitto
import Foundation
import Logging
import Synchronization

/// libmosquitto must be initialised once per process; a global `let` runs this
/// lazily and thread-safely.
private let libraryInitialised: Bool = {
    mosquitto_lib_init()
    return true
}()

/// The connection engine under `MQTTClient`: one libmosquitto handle driven by one
/// dedicated loop thread that connects, reconnects with backoff, resubscribes,
/// publishes the birth message and flushes the offline queue.
///
/// Locking rules (they prevent lock-order inversions with libmosquitto's own mutexes):
/// - `state` may be held while calling into libmosquitto; callbacks never take it.
/// - `events` is taken by callbacks and is never held while calling libmosquitto,
///   resuming a continuation, or finishing a stream.
final class MosquittoSession: @unchecked Sendable {
    enum Phase: Equatable {
        case idle
        /// No usable connection: publishes go to the offline queue.
        case connecting
        case connected
        case stopping
        case stopped
    }

    struct State {
        var phase: Phase = .idle
        var queue: OfflineQueue
        var stats = MQTTStatistics()
        var connectWaiters: [UUID: CheckedContinuation<Void, any Error>] = [:]
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var eventListeners: [UUID: AsyncStream<MQTTConnectionEvent>.Continuation] = [:]
        var finalMessage: MQTTMessage?
        var lastConnectError: MQTTError?
    }

    /// What callbacks record for the loop thread and for waiting publishers.
    struct Events {
        var connack: (code: Int32, sessionPresent: Bool)?
        var disconnectCode: Int32?
        /// Outgoing messages handed to libmosquitto and not yet complete, by mid.
        var pending = PendingMessages()
        /// Completions that arrived before `mosquitto_publish` returned the mid; kept
        /// only while a tracked publish is between those two points (`registering`).
        var earlyCompletions: [Int32: Int32] = [:]
        var registering = 0
        /// `false` resumes a finished publish; errors carry a broker refusal.
        var publishWaiters: [Int32: CheckedContinuation<Bool, any Error>] = [:]
        /// Deliveries of `send`, by mid.
        var deliveries: [Int32: MQTTDelivery] = [:]
        var subscribeWaiters: [Int32: CheckedContinuation<[Int32], any Error>] = [:]
        var earlySubacks: [Int32: [Int32]] = [:]
        /// Filters the broker granted in the session it keeps for us: on a reconnect into that
        /// session, only the others are subscribed again (`didConnect`).
        var granted: Set<String> = []
        /// SUBSCRIBEs sent on this connection and not yet acknowledged: filter by mid.
        var subscribing: [Int32: String] = [:]
        var completed: UInt64 = 0
        var received: UInt64 = 0
        var unrouted: UInt64 = 0
        var routes = RoutingTable()
        var lastLibraryError: String?
        /// MQTT 5: the broker's Receive Maximum from its CONNACK (nil: none sent, 65535).
        var serverReceiveMaximum: Int?
        /// Received and not yet handed to the durable receiver (durable mode only).
        var durableBatch: [MQTTMessage] = []
    }

    let configuration: MQTTConfiguration
    let logger: Logger
    let handle: OpaquePointer
    let state: Locked<State>
    let events = Locked(Events())
    /// A stop was asked for. An atomic: the loop thread checks it on every wake-up
    /// (once per published message), and taking `state` for that made it wait for
    /// publishers, which hold `state` through `mosquitto_publish` (issue 15).
    let stopFlag = Atomic<Bool>(false)
    /// The connect or disconnect callback recorded something in `events`, so the loop
    /// thread takes that lock after a turn only when there is news.
    let connectionNews = Atomic<Bool>(false)
    /// Set by `MQTTClient.dropConnection()`, taken by the loop thread (an atomic, like the
    /// stop flag: the loop checks it once per turn).
    let dropRequested = Atomic<Bool>(false)
    /// Messages routed during one turn of the loop, handed to their streams together at
    /// its end (`turn()`). Loop thread only.
    var inbox: [(MessageChannel, MQTTMessage)] = []
    /// The loop thread is inside `turn()`: `didReceive` fills `inbox` instead of yielding.
    var batchingTurn = false
    /// Tests only (`SubscribeWhileConnectingTests`): runs on the loop thread when a new
    /// connection's resubscribes were sent and the session does not count as connected
    /// yet — the moment a concurrent `subscribe` must not fall between. Set before `start()`.
    var beforeConnectedHook: (@Sendable () -> Void)?

    init(configuration: MQTTConfiguration, logger: Logger) throws(MQTTError) {
        _ = libraryInitialised
        self.configuration = configuration
        self.logger = logger
        self.state = Locked(State(queue: OfflineQueue(policy: configuration.offlineQueue)))
        guard let mosq = mosquitto_new(configuration.clientID, configuration.cleanSession, nil) else {
            throw .invalidConfiguration("mosquitto_new failed (a persistent session needs a client id)")
        }
        self.handle = mosq
        do {
            try configure()
        } catch {
            mosquitto_destroy(mosq)
            throw error
        }
        mosquitto_user_data_set(mosq, Unmanaged.passUnretained(self).toOpaque())
        installCallbacks()
    }

    deinit { mosquitto_destroy(handle) }

    private func configure() throws(MQTTError) {
        let c = configuration
        let version = c.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, version), "protocol version")
        // Nagle would hold small telemetry bursts back ~40 ms.
        try check(mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY")
        try check(mosquitto_int_option(handle, MOSQ_OPT_SEND_MAXIMUM, Int32(c.maxInflight)), "max inflight")
        if c.protocolVersion == .v5 {
            try check(mosquitto_int_option(handle, MOSQ_OPT_RECEIVE_MAXIMUM, Int32(c.receiveMaximum)), "receive maximum")
        }
        // Callbacks come from our own loop thread; libmosquitto must not write from publishers' threads.
        try check(mosquitto_threaded_set(handle, true), "threaded mode")
        if c.username != nil || c.password != nil {
            try check(mosquitto_username_pw_set(handle, c.username, c.password), "credentials")
        }
        if let tls = c.tls {
            if tls.caFile != nil {
                try check(mosquitto_tls_set(handle, tls.caFile, nil, tls.certificateFile, tls.privateKeyFile, nil), "TLS files")
            } else {
                try check(mosquitto_int_option(handle, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "system CA certificates")
                if tls.certificateFile != nil {
                    throw .invalidConfiguration("a client certificate needs a CA file")
                }
            }
            if tls.insecureSkipVerification {
                try check(mosquitto_tls_insecure_set(handle, true), "TLS insecure")
                try check(mosquitto_tls_opts_set(handle, 0, nil, nil), "TLS verification off")
            }
        }
        if let will = c.will {
            let props = c.protocolVersion == .v5 ? MosquittoProperties.make(will.properties) : nil
            defer { if props != nil { var p = props; mosquitto_property_free_all(&p) } }
            let rc = will.payload.withUnsafeBytes { raw in
                mosquitto_will_set_v5(
                    handle, will.topic, Int32(will.payload.count), raw.baseAddress, will.qos.rawValue, will.retain, props)
            }
            try check(rc, "last will")
        }
    }

    private func check(_ rc: Int32, _ what: String) throws(MQTTError) {
        guard rc == MOSQ_ERR_SUCCESS.rawValue else {
            throw .invalidConfiguration("\(what): \(String(cString: mosquitto_strerror(rc)))")
        }
    }

    // MARK: Lifecycle

    /// Starts the loop thread once; later calls do nothing.
    func start() {
        let shouldStart = state.withLock { s -> Bool in
            guard s.phase == .idle else { return false }
            s.phase = .connecting
            return true
        }
        guard shouldStart else { return }
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "mqtt-\(configuration.clientID)"
        thread.start()
    }

    /// Waits until connected. Throws at once on a definitive failure (TLS, refused
    /// credentials); network failures keep it waiting while the loop retries.
    func waitUntilConnected() async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, MQTTError>? = state.withLock { s in
                    switch s.phase {
                    case .connected: return .success(())
                    case .stopping, .stopped: return .failure(.shutDown)
                    default:
                        s.connectWaiters[id] = continuation
                        return nil
                    }
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            self.failConnectWaiter(id, with: CancellationError())
        }
    }

    func failConnectWaiter(_ id: UUID, with error: any Error) {
        let waiter = state.withLock { $0.connectWaiters.removeValue(forKey: id) }
        waiter?.resume(throwing: error)
    }

    /// Asks the loop to publish `finalMessage` (if any), let pending QoS ≥ 1 messages
    /// complete, send DISCONNECT (so the will is not published) and stop.
    func stop(finalMessage: MQTTMessage?) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if s.phase == .stopped || s.phase == .idle {
                    s.phase = .stopped
                    return true
                }
                stopFlag.store(true, ordering: .releasing)
                s.finalMessage = finalMessage
                s.stopWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Signals the loop to stop without waiting (used from `deinit` of the client).
    func requestStop() {
        stopFlag.store(true, ordering: .releasing)
    }

    func addEventListener() -> AsyncStream<MQTTConnectionEvent> {
        let (stream, continuation) = AsyncStream<MQTTConnectionEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = UUID()
        state.withLock { $0.eventListeners[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.eventListeners.removeValue(forKey: id) }
        }
        return stream
    }

    func emit(_ event: MQTTConnectionEvent) {
        let listeners = state.withLock { Array($0.eventListeners.values) }
        for l in listeners { l.yield(event) }
    }

    var statistics: MQTTStatistics {
        var s = state.withLock { s -> MQTTStatistics in
            var st = s.stats
            st.queuedOffline = s.queue.count
            st.droppedOffline = s.queue.droppedCount
            return st
        }
        events.withLock { e in
            s.acknowledged = e.completed
            s.received = e.received
            s.unrouted = e.unrouted
        }
        return s
    }

    /// Number of tracked messages handed to libmosquitto and not yet complete
    /// (QoS ≥ 1, and QoS 0 someone waits for), plus the offline queue.
    var outstanding: Int {
        let inFlight = events.withLock { $0.pending.count }
        return inFlight + state.withLock { $0.queue.count }
    }
}
