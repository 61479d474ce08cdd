import BridgeAlerts
import BridgeDelivery
import Foundation
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// Feeds the site's topics to the `AlertCenter`, ticks it every `tick`, and runs
/// the in-process queue (until the outbox carries alerts).
public final class AlertService: Service, Sendable {
    let client: MQTTClient
    let topics: TopicBuilder
    public let center: AlertCenter
    let queue: InProcessAlertQueue?
    let tick: Duration

    public init(client: MQTTClient, topics: TopicBuilder, center: AlertCenter, queue: InProcessAlertQueue?,
                tick: Duration = .seconds(1)) {
        self.client = client
        self.topics = topics
        self.center = center
        self.queue = queue
        self.tick = tick
    }

    public func run() async throws {
        // First what a previous run left firing (retained `alert/<id>`), so the retained
        // states that follow can resolve it.
        let previous = try await client.subscribe("\(topics.root)/alert/+", qos: .atLeastOnce)
        let restoring = Task {
            for await m in previous where m.retain && !m.topic.hasSuffix("/event") { center.restore(mqttState: m.payload) }
        }
        try? await Task.sleep(for: .milliseconds(300))
        previous.cancel()
        restoring.cancel()
        var subscriptions: [MQTTSubscription] = []
        for filter in center.subscriptions {
            subscriptions.append(try await client.subscribe("\(topics.root)/\(filter)", qos: .atLeastOnce))
        }
        let prefix = topics.root + "/"
        await withTaskGroup(of: Void.self) { group in
            for subscription in subscriptions {
                group.addTask {
                    for await m in subscription where m.topic.hasPrefix(prefix) {
                        self.center.observe(topic: String(m.topic.dropFirst(prefix.count)), payload: m.payload)
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: self.tick) } catch { return }
                    await self.center.tick()
                }
            }
            if let queue { group.addTask { await queue.run(tick: self.tick) } }
            try? await gracefulShutdown()
            subscriptions.forEach { $0.cancel() }
            group.cancelAll()
        }
    }
}

/// Builds the alerting of a site from its `alerts:` section.
public enum AlertSetup {
    /// The first line of a secret file.
    static func secret(_ path: String?) throws -> String? {
        guard let path else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, field: nil, message: "cannot read the secret file")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
    }

    /// The channels of the section: `webhook:<name>`, `ntfy:<name>`, `email:<name>` (name: given, or the index).
    public static func channels(_ section: AlertsSection?, site: String, clock: any WallClock = SystemWallClock()) throws
        -> [any AlertChannel]
    {
        guard let section else { return [] }
        let texts = AlertTexts(section.language ?? .en)
        var out: [any AlertChannel] = []
        for (i, w) in (section.webhooks ?? []).enumerated() {
            out.append(WebhookChannel(name: "webhook:\(w.name ?? String(i))", url: w.url,
                                      secret: try secret(w.secretFile).map { Array($0.utf8) }, caFile: w.caFile,
                                      timeout: w.timeoutS ?? 10, clock: clock))
        }
        for (i, n) in (section.ntfy ?? []).enumerated() {
            out.append(NtfyChannel(name: "ntfy:\(n.name ?? String(i))", url: n.url, token: try secret(n.tokenFile), site: site,
                                   texts: texts, caFile: n.caFile, timeout: n.timeoutS ?? 10))
        }
        for (i, e) in (section.email ?? []).enumerated() {
            out.append(EmailChannel(name: "email:\(e.name ?? String(i))", config: e, password: try secret(e.passwordFile),
                                    site: site, texts: texts))
        }
        return out
    }
}
