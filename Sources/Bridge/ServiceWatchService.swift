import Foundation
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// Raises an alert when another Phasor service of the site goes offline (its
/// retained will or its goodbye on `…/status/<service>`) or falls silent (its
/// status says `online` but its heartbeat on `…/status/<service>/heartbeat` is
/// older than three beats: it died while the broker was down, or hangs), and
/// clears it when the service is back: `…/alert/service_<name>` with
/// `{"active": true|false, …}`.
public final class ServiceWatchService: Service, Sendable {
    let client: MQTTClient
    let topics: TopicBuilder
    let logger: Logger
    let clock: any WallClock
    /// How often heartbeat ages are looked at.
    let tick: Duration
    /// What was heard of each service, and the last verdict acted on.
    private let watched = Locked<[String: Watched]>([:])
    /// When set (the bridge with its `AlertCenter`), verdicts go there — service and
    /// verdict — and the centre publishes and delivers them; else this service
    /// publishes `alert/service_<name>` itself.
    let report: (@Sendable (String, ServiceLiveness.Verdict) -> Void)?

    struct Watched {
        var liveness = ServiceLiveness()
        var alive: Bool?
    }

    public init(client: MQTTClient, topics: TopicBuilder, logger: Logger, clock: any WallClock = SystemWallClock(),
                tick: Duration = .seconds(1), report: (@Sendable (String, ServiceLiveness.Verdict) -> Void)? = nil) {
        self.report = report
        self.client = client
        self.topics = topics
        self.logger = logger
        self.clock = clock
        self.tick = tick
    }

    public func run() async throws {
        let statuses = try await client.subscribe("\(topics.root)/status/+", qos: .atLeastOnce)
        let beats = try await client.subscribe("\(topics.root)/status/+/heartbeat", qos: .atLeastOnce)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await m in statuses { self.handle(m) } }
            group.addTask { for await m in beats { self.handle(m) } }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: self.tick) } catch { return }
                    self.judgeAll()
                }
            }
            try? await gracefulShutdown()
            statuses.cancel()
            beats.cancel()
            group.cancelAll()
        }
    }

    func handle(_ message: MQTTMessage) {
        let levels = message.topic.split(separator: "/").map(String.init)
        let isBeat = levels.last == "heartbeat"
        guard let service = isBeat ? levels.dropLast().last : levels.last, service != ServiceName.bridge.rawValue else { return }
        if isBeat {
            let understood = watched.withLock { $0[service, default: Watched()].liveness.record(heartbeat: message.payload) }
            if !understood { logger.warning("unreadable heartbeat", metadata: ["topic": "\(message.topic)"]) }
        } else {
            let status = message.string
            guard status == "online" || status == "offline" else {
                if !status.isEmpty {
                    logger.warning("unknown service status", metadata: ["topic": "\(message.topic)", "payload": "\(Excerpt.of(status))"])
                }
                return
            }
            watched.withLock { $0[service, default: Watched()].liveness.record(status: status) }
        }
        judge(service)
    }

    private func judgeAll() {
        for service in watched.withLock({ Array($0.keys) }) { judge(service) }
    }

    private func judge(_ service: String) {
        let now = clock.now()
        let (verdict, previous) = watched.withLock { all -> (ServiceLiveness.Verdict, Bool?) in
            guard var entry = all[service] else { return (.unknown, nil) }
            let verdict = entry.liveness.verdict(now: now)
            let previous = entry.alive
            if verdict != .unknown { entry.alive = verdict.isAlive }
            all[service] = entry
            return (verdict, previous)
        }
        guard verdict != .unknown else { return }
        let alive = verdict.isAlive
        // A service alive at start needs no alert; any change to dead does, and so
        // does a service already dead when we start.
        guard previous != alive, !(previous == nil && alive) else { return }
        let message: String
        switch verdict {
        case .silent(let age): message = "\(service) is silent: its last heartbeat is \(Int(age)) s old"
        case .offline: message = "\(service) is offline"
        default: message = "\(service) is back online"
        }
        if alive {
            logger.notice("service back online", metadata: ["service": "\(service)"])
        } else {
            logger.error("service offline", metadata: ["service": "\(service)", "why": "\(message)"])
        }
        if let report {
            report(service, verdict)
            return
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.value("service_\(service)")
        w.key("active"); w.value(!alive)
        w.key("severity"); w.value(alive ? "info" : "critical")
        w.key("message"); w.value(message)
        w.key("time"); w.value(MeterTimestamp(date: now, utcOffsetSeconds: 0).iso8601)
        w.endObject()
        try? client.publish(MQTTMessage(topic: topics.alert("service_\(service)"), payload: w.bytes, qos: .atLeastOnce,
                                        properties: .init(contentType: "application/json")))
    }
}
