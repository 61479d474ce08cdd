import BridgeAlerts
import Foundation
import Logging
import PhasorCore

/// One notification for one channel.
public struct AlertDelivery: Sendable, Hashable, Codable {
    public var channel: String
    public var notification: AlertNotification
    public init(channel: String, notification: AlertNotification) {
        self.channel = channel
        self.notification = notification
    }
    /// What the queue deduplicates on.
    public var key: String { "\(channel)|\(notification.id)" }
}

/// Where the bridge hands notifications over for sending: the bridge's outbox on
/// its priority lane (issue 12), or `InProcessAlertQueue` until it is wired in.
/// `enqueue` returns once the delivery is kept; sending and retrying are the queue's.
public protocol AlertQueue: Sendable {
    func enqueue(_ delivery: AlertDelivery) async throws
}

/// A queue in memory: retries with a backoff (1 s doubling to 5 min) until the
/// channel takes the delivery, sends each delivery once (a copy enqueued twice is
/// dropped), at most `perMinute` sends a minute per channel, and at most
/// `capacity` waiting (the oldest dropped first, with an error logged).
/// Driven by `deliverDue(at:)` on injected time; `run` calls it every `tick`.
///
/// With a `file`, what waits is kept there (JSON, written to a temporary file and
/// renamed on every change) and read back at start, so a bridge restarted during an
/// outage still delivers what it had accepted.
public actor InProcessAlertQueue: AlertQueue {
    struct Pending: Sendable {
        var delivery: AlertDelivery
        var attempts = 0
        var nextAttempt: Date
        var lastError: String?
    }

    public struct Outcome: Sendable, Hashable {
        public var key: String
        public var delivered: Bool
        public var error: String?
    }

    let channels: [String: any AlertChannel]
    let clock: any WallClock
    let logger: Logger
    let capacity: Int
    let perMinute: Int
    let file: String?
    var pending: [Pending] = []
    var known: Set<String> = []
    var sent: [String: [Date]] = [:]
    public private(set) var deliveredCount = 0
    static let rememberedKeys = 10_000

    public init(channels: [any AlertChannel], clock: any WallClock, logger: Logger, capacity: Int = 1000, perMinute: Int = 30,
                file: String? = nil) {
        self.channels = Dictionary(channels.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.clock = clock
        self.logger = logger
        self.capacity = capacity
        self.perMinute = perMinute
        self.file = file
        if let file, let data = FileManager.default.contents(atPath: file) {
            do {
                let saved = try JSONDecoder().decode([AlertDelivery].self, from: data)
                // Deliveries for channels no longer configured are dropped, with a line in the log.
                let kept = saved.filter { channels.map(\.name).contains($0.channel) }
                if kept.count < saved.count { logger.warning("alert queue: deliveries for removed channels dropped", metadata: ["count": "\(saved.count - kept.count)"]) }
                pending = kept.map { Pending(delivery: $0, nextAttempt: clock.now()) }
                known = Set(kept.map(\.key))
            } catch {
                logger.error("alert queue: unreadable file ignored", metadata: ["file": "\(file)", "error": "\(error)"])
            }
        }
    }

    /// Keeps what waits on disk (when there is a file); a failure is logged, delivery goes on from memory.
    private func save() {
        guard let file else { return }
        do {
            let temporary = file + ".tmp"
            try JSONEncoder().encode(pending.map(\.delivery)).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, file) == 0 else { throw DeliveryFailure(description: "rename: errno \(errno)") }
        } catch {
            logger.error("alert queue: cannot save", metadata: ["file": "\(file)", "error": "\(error)"])
        }
    }

    public func enqueue(_ delivery: AlertDelivery) async throws {
        guard channels[delivery.channel] != nil else {
            throw DeliveryFailure(description: "no channel named \(delivery.channel)")
        }
        guard known.insert(delivery.key).inserted else { return }
        // Duplicates come from the dispatcher within minutes: remembering the last few
        // thousand keys is enough, and keeps the set bounded.
        if known.count > Self.rememberedKeys {
            known = Set(pending.map(\.delivery.key))
            known.insert(delivery.key)
        }
        pending.append(Pending(delivery: delivery, nextAttempt: clock.now()))
        if pending.count > capacity {
            let dropped = pending.removeFirst()
            logger.error("alert queue full: oldest notification dropped",
                         metadata: ["channel": "\(dropped.delivery.channel)", "id": "\(dropped.delivery.notification.id)"])
        }
        save()
    }

    public var waiting: Int { pending.count }

    /// Tries every delivery that is due; returns what happened to each.
    @discardableResult
    public func deliverDue(at now: Date) async -> [Outcome] {
        var outcomes: [Outcome] = []
        var index = 0
        while index < pending.count {
            let item = pending[index]
            let recent = (sent[item.delivery.channel] ?? []).filter { now.timeIntervalSince($0) < 60 }
            sent[item.delivery.channel] = recent
            guard item.nextAttempt <= now, recent.count < perMinute, let channel = channels[item.delivery.channel] else {
                index += 1
                continue
            }
            do {
                try await channel.deliver(item.delivery.notification)
                pending.removeAll { $0.delivery.key == item.delivery.key }
                save()
                sent[item.delivery.channel, default: []].append(now)
                deliveredCount += 1
                outcomes.append(Outcome(key: item.delivery.key, delivered: true))
                logger.info("alert delivered", metadata: ["channel": "\(channel.name)", "id": "\(item.delivery.notification.id)",
                                                          "attempts": "\(item.attempts + 1)"])
            } catch {
                guard let i = pending.firstIndex(where: { $0.delivery.key == item.delivery.key }) else { continue }
                pending[i].attempts += 1
                let delay = min(300, pow(2, Double(pending[i].attempts - 1)))
                pending[i].nextAttempt = now + delay
                pending[i].lastError = "\(error)"
                outcomes.append(Outcome(key: item.delivery.key, delivered: false, error: "\(error)"))
                logger.warning("alert delivery failed; will retry",
                               metadata: ["channel": "\(channel.name)", "error": "\(error)", "retry_in_s": "\(Int(delay))"])
                index = i + 1
            }
        }
        return outcomes
    }

    /// Calls `deliverDue` every `tick` until cancelled.
    public func run(tick: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            await deliverDue(at: clock.now())
            do { try await Task.sleep(for: tick) } catch { return }
        }
    }
}
