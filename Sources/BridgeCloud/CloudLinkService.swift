import BridgeCore
import BridgeOutbox
import Foundation
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// How the bridge reaches the cloud broker.
public struct CloudLinkConfiguration: Sendable {
    /// The cloud broker (client id fixed, `cleanSession: false`, session expiry set).
    public var mqtt: MQTTConfiguration
    /// Start with MQTT 5 and fall back to 3.1.1 when the broker refuses 5.
    public var fallbackTo311: Bool
    public var topics: CloudTopics
    /// Our bound on QoS 1 messages in flight; the broker's Receive Maximum bounds it further.
    public var maxInflight: Int
    /// Backlog replay, messages per second.
    public var backlogRate: Int
    /// Seconds a message may wait for its acknowledgement on a live connection before
    /// the connection is taken for dead and made again.
    public var ackTimeout: TimeInterval

    public init(mqtt: MQTTConfiguration, fallbackTo311: Bool = true, topics: CloudTopics, maxInflight: Int = 100,
                backlogRate: Int = 2000, ackTimeout: TimeInterval = 60) {
        self.mqtt = mqtt
        self.fallbackTo311 = fallbackTo311
        self.topics = topics
        self.maxInflight = maxInflight
        self.backlogRate = backlogRate
        self.ackTimeout = ackTimeout
    }
}

/// The cloud side of the link, as a lifecycle `Service`: sends the outbox to the cloud
/// broker and relays the cloud's commands to the site.
///
/// Sending: what arrives while the link is up goes out at once, the priority lane
/// (alerts, command results, gap records) before the live lane. What was waiting
/// when the link came up — after an outage or a restart — is the backlog: replayed
/// oldest first at `backlogRate`, each flagged historical (`hist` = 1), so a long
/// outage never delays a live value. A row leaves the outbox only when the broker
/// acknowledged it (PUBACK); a refusal (reason code ≥ 0x80) moves it to the dead
/// letters instead of retrying it forever. At most min(`maxInflight`, the broker's
/// Receive Maximum) messages are in flight.
public final class CloudLinkService: Service, Sendable {
    let configuration: CloudLinkConfiguration
    let outbox: Outbox
    let commands: CommandRelay?
    let logger: Logger
    let clock: any WallClock
    /// The client in use (replaced on a fallback to 3.1.1); for tests and status.
    public let current = Locked<MQTTClient?>(nil)

    public init(configuration: CloudLinkConfiguration, outbox: Outbox, commands: CommandRelay?, logger: Logger,
                clock: any WallClock = SystemWallClock()) {
        self.configuration = configuration
        self.outbox = outbox
        self.commands = commands
        self.logger = logger
        self.clock = clock
    }

    enum Outcome { case stopped, fallback }

    public func run() async throws {
        var mqtt = configuration.mqtt
        while true {
            let client = try MQTTClient(configuration: mqtt, logger: logger)
            current.withLock { $0 = client }
            let outcome = await run(client)
            await client.shutdown()
            guard outcome == .fallback else { return }
            logger.warning("cloud broker refused MQTT 5: falling back to MQTT 3.1.1 (no user properties; the envelope carries seq and hist)")
            mqtt.protocolVersion = .v311
        }
    }

    private func run(_ client: MQTTClient) async -> Outcome {
        let events = client.connectionEvents()
        client.start()
        let fallback = configuration.fallbackTo311 && client.configuration.protocolVersion == .v5
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                await self.send(client)
                return nil
            }
            if let commands = self.commands {
                group.addTask {
                    await commands.run(cloud: client)
                    return nil
                }
            }
            group.addTask {
                try? await gracefulShutdown()
                return .stopped
            }
            group.addTask {
                for await event in events {
                    if case .connectFailed(let error) = event { self.logger.error("cloud link", metadata: ["error": "\(error)"]) }
                    // 0x84 (MQTT 5: unsupported protocol version), 1 (3.1.1's refusal code).
                    if fallback, case .connectFailed(.connectionRefused(let code, _)) = event, code == 0x84 || code == 1 {
                        return .fallback
                    }
                }
                return nil
            }
            var outcome: Outcome = .stopped
            while let next = await group.next() {
                if let next {
                    outcome = next
                    break
                }
            }
            group.cancelAll()
            return outcome
        }
    }

    // MARK: Sending

    enum Completion {
        case acknowledged(Int64)
        case refused(Int64, String)
        case stopped(Int64)
        /// A look at the acknowledgement deadlines while waiting.
        case tick
    }

    /// The sender: picks rows by lane, keeps a window in flight, records acknowledgements
    /// in batches (so the power-loss setting costs one fsync per batch, not per message).
    func send(_ client: MQTTClient) async {
        var state = SendState(rate: configuration.backlogRate, now: ContinuousClock.now)
        await withTaskGroup(of: Completion.self) { group in
            var running = 0
            var acked: [Int64] = []
            // When each message in flight was handed over (the injected clock).
            var sentAt: [Int64: Date] = [:]
            var ticking = false
            func settle(_ c: Completion) {
                if case .tick = c {
                    ticking = false
                    return
                }
                running -= 1
                switch c {
                case .tick: break
                case .acknowledged(let id):
                    state.inFlight.remove(id)
                    sentAt[id] = nil
                    acked.append(id)
                case .refused(let id, let reason):
                    state.inFlight.remove(id)
                    sentAt[id] = nil
                    logger.error("cloud broker refused a message: dead letter", metadata: ["id": "\(id)", "reason": "\(reason)"])
                    do { try outbox.deadLetter(id, reason: reason, now: clock.now()) } catch {
                        logger.error("dead letter not recorded", metadata: ["error": "\(error)"])
                    }
                case .stopped(let id):
                    state.inFlight.remove(id)
                    sentAt[id] = nil
                }
            }
            // A connection that stays up but acknowledges nothing is cut and made again;
            // libmosquitto resends what was in flight on the resumed session.
            func checkDeadlines() {
                let now = clock.now()
                guard client.isConnected, let oldest = sentAt.values.min(),
                    now.timeIntervalSince(oldest) >= configuration.ackTimeout
                else { return }
                logger.warning("cloud broker acknowledged nothing in time: reconnecting", metadata: [
                    "in_flight": "\(sentAt.count)", "waited_s": "\(Int(now.timeIntervalSince(oldest)))",
                ])
                client.dropConnection()
                for id in sentAt.keys { sentAt[id] = now }
            }
            func flushAcks() {
                guard !acked.isEmpty else { return }
                do {
                    try outbox.acknowledge(acked)
                    acked.removeAll(keepingCapacity: true)
                } catch {
                    logger.error("acknowledgements not recorded (they will be sent again)", metadata: ["error": "\(error)"])
                    acked.removeAll()
                }
            }
            while !Task.isCancelled {
                let connections = client.statistics.connections
                if client.isConnected && connections != state.connections {
                    // (Re)connected: what waits now is the backlog.
                    state.connections = connections
                    let last = (try? outbox.lastID()) ?? state.liveFrom
                    state.startLive(from: last)
                    // What was in flight is resent on the new connection: its deadline starts again.
                    let now = clock.now()
                    for id in sentAt.keys { sentAt[id] = now }
                    logger.info("cloud link up", metadata: [
                        "backlog_messages": "\(outbox.depth.messages)", "server_receive_maximum": "\(client.serverReceiveMaximum.map(String.init) ?? "-")",
                    ])
                }
                checkDeadlines()
                let generation = outbox.changeCount
                let window = max(1, min(configuration.maxInflight, client.serverReceiveMaximum ?? configuration.maxInflight))
                var picked: [(OutboxRecord, Bool)] = []
                if client.isConnected && running < window {
                    do { picked = try state.pick(from: outbox, limit: window - running, now: ContinuousClock.now) } catch {
                        logger.error("outbox read failed", metadata: ["error": "\(error)"])
                    }
                }
                for (record, historical) in picked {
                    // Handed over here, in order; only the acknowledgements are awaited concurrently.
                    let delivery: MQTTDelivery
                    do throws(MQTTError) {
                        delivery = try client.send(envelope(record, historical: historical))
                    } catch .network {
                        // The link dropped under us: picked again from the backlog after reconnecting.
                        state.inFlight.remove(record.id)
                        state.backlogCursor = min(state.backlogCursor, record.id - 1)
                        continue
                    } catch .shutDown {
                        state.inFlight.remove(record.id)
                        continue
                    } catch {
                        // Cannot ever be sent (too large for the broker, say): dead letter.
                        running += 1
                        settle(.refused(record.id, "\(error)"))
                        continue
                    }
                    running += 1
                    sentAt[record.id] = clock.now()
                    group.addTask {
                        do {
                            try await delivery.acknowledged()
                            return .acknowledged(record.id)
                        } catch MQTTError.shutDown {
                            return .stopped(record.id)
                        } catch {
                            return .refused(record.id, "\(error)")
                        }
                    }
                }
                if acked.count >= 256 { flushAcks() }
                if running > 0 && (picked.isEmpty || running >= window) {
                    if !ticking {
                        ticking = true
                        group.addTask {
                            try? await Task.sleep(for: .milliseconds(250))
                            return .tick
                        }
                    }
                    if let c = await group.next() { settle(c) }
                } else if picked.isEmpty {
                    flushAcks()
                    // Idle: until something is stored, the backlog's next tokens, or a
                    // look at the connection.
                    let backlogWaits = client.isConnected && state.backlogCursor < state.liveFrom
                    await outbox.waitForChange(since: generation, timeout: .milliseconds(backlogWaits ? 10 : client.isConnected ? 250 : 50))
                }
            }
            group.cancelAll()
            while let c = await group.next() { settle(c) }
            flushAcks()
        }
    }

    func envelope(_ r: OutboxRecord, historical: Bool) -> MQTTMessage {
        let e = CloudEnvelope(site: configuration.topics.site, stream: r.stream, seq: r.seq, sourceTime: r.sourceTime,
                              historical: historical, messageClass: r.messageClass, payload: r.payload)
        return MQTTMessage(
            topic: configuration.topics.up(r.stream), payload: e.encode(), qos: .atLeastOnce, retain: false,
            properties: MQTTPublishProperties(contentType: "application/json", userProperties: e.userProperties))
    }
}

/// Where the sender is in the outbox: one cursor per lane for what arrived since the
/// link came up (`id > liveFrom`), one for the backlog (`id ≤ liveFrom`), the rows in
/// flight (never picked twice), and the backlog's token bucket.
struct SendState {
    var liveFrom: Int64 = 0
    var priorityCursor: Int64 = 0
    var liveCursor: Int64 = 0
    var backlogCursor: Int64 = 0
    var connections: UInt64 = 0
    var inFlight: Set<Int64> = []
    let rate: Double
    var tokens: Double
    var refilled: ContinuousClock.Instant

    init(rate: Int, now: ContinuousClock.Instant) {
        self.rate = Double(max(1, rate))
        self.tokens = 0
        self.refilled = now
    }

    mutating func startLive(from last: Int64) {
        liveFrom = max(liveFrom, last)
        priorityCursor = max(priorityCursor, liveFrom)
        liveCursor = max(liveCursor, liveFrom)
    }

    /// Up to `limit` rows: priority lane, live lane, then backlog within the rate. The
    /// flag says whether the row is historical.
    mutating func pick(from outbox: Outbox, limit: Int, now: ContinuousClock.Instant) throws(OutboxError) -> [(OutboxRecord, Bool)] {
        var out: [(OutboxRecord, Bool)] = []
        for lane in [Lane.priority, .live] where out.count < limit {
            let cursor = lane == .priority ? priorityCursor : liveCursor
            let rows = try outbox.fetch(lane: lane, after: cursor, limit: limit - out.count)
            if let last = rows.last {
                if lane == .priority { priorityCursor = last.id } else { liveCursor = last.id }
            }
            out += rows.filter { !inFlight.contains($0.id) }.map { ($0, false) }
        }
        let elapsed = Double((now - refilled).components.attoseconds) / 1e18 + Double((now - refilled).components.seconds)
        tokens = min(max(rate / 10, 50), tokens + elapsed * rate)
        refilled = now
        if out.count < limit && backlogCursor < liveFrom && tokens >= 1 {
            let n = min(limit - out.count, Int(tokens))
            let rows = try outbox.fetch(lane: nil, after: backlogCursor, through: liveFrom, limit: n)
            if let last = rows.last { backlogCursor = last.id } else { backlogCursor = liveFrom }
            let fresh = rows.filter { !inFlight.contains($0.id) }
            tokens -= Double(fresh.count)
            out += fresh.map { ($0, true) }
        }
        for (r, _) in out { inFlight.insert(r.id) }
        return out
    }
}
