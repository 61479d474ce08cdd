import BridgeCore
import BridgeOutbox
import Foundation
import Logging
import MQTT
import PhasorCore

/// Commands back from the cloud: from `<prefix>/<site>/v1/command` to the site's local
/// `…/set` topics, through `CommandPolicy` (allowlist, never retained, not expired, not
/// replayed). Every command is answered on the `result` stream through the outbox's
/// priority lane, so an answer survives an outage. Safety never waits on the cloud:
/// with the link down nothing is relayed and control goes on with its last settings.
public final class CommandRelay: Sendable {
    let policy: CommandPolicy
    let outbox: Outbox
    /// The site's broker (the bridge's own session).
    let local: MQTTClient
    let localRoot: String
    let topics: CloudTopics
    let logger: Logger
    let clock: any WallClock
    /// The first wait before subscribing again after a refusal, doubled up to `retryMaximum`.
    let retryFirst: Duration
    static let retryMaximum: Duration = .seconds(60)

    public init(policy: CommandPolicy, outbox: Outbox, local: MQTTClient, localRoot: String, topics: CloudTopics,
                logger: Logger, clock: any WallClock = SystemWallClock(), retryFirst: Duration = .seconds(1)) {
        self.retryFirst = retryFirst
        self.policy = policy
        self.outbox = outbox
        self.local = local
        self.localRoot = localRoot
        self.topics = topics
        self.logger = logger
        self.clock = clock
    }

    /// Relays until `cloud` shuts down or the task is cancelled. A subscription the cloud
    /// refuses (its ACL, a broker error) is asked for again with backoff, and one that ends
    /// while the client runs (refused when it was sent again on a reconnect) is made again: a
    /// relay that gave up stayed deaf to every command until the bridge restarted.
    func run(cloud: MQTTClient) async {
        var wait = retryFirst
        while !Task.isCancelled {
            let commands: MQTTSubscription
            do {
                // Retain-as-published (MQTT 5) so a retained command shows its flag when it arrives live.
                commands = try await cloud.subscribe(
                    topics.command, options: MQTTSubscribeOptions(qos: .atLeastOnce, retainAsPublished: true))
            } catch MQTTError.shutDown {
                return
            } catch {
                logger.error(
                    "cannot subscribe to cloud commands, trying again",
                    metadata: ["topic": "\(topics.command)", "error": "\(error)", "in_s": "\(wait)"])
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, Self.retryMaximum)
                continue
            }
            wait = retryFirst
            await withTaskCancellationHandler {
                for await message in commands { await handle(message) }
            } onCancel: {
                commands.cancel()
            }
            guard !Task.isCancelled else { return }
            logger.warning("cloud command subscription ended, subscribing again", metadata: ["topic": "\(topics.command)"])
        }
    }

    func handle(_ message: MQTTMessage) async {
        let now = clock.now()
        let verdict = policy.check(message, now: now) { id in (try? outbox.commandSeen(id, now: now)) ?? false }
        switch verdict {
        case .failure(let refusal):
            let id = (try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])?["id"] as? String
            logger.warning("cloud command refused", metadata: ["id": "\(id ?? "-")", "field": "\(refusal.field)", "reason": "\(refusal.reason)"])
            answer(id: id, refusal: refusal, now: now)
        case .success(let command):
            let local = CommandPolicy.localMessage(command, root: localRoot)
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.local.publishAndWait(local) }
                    group.addTask {
                        try await Task.sleep(for: .seconds(5))
                        throw CommandRefusal("site", "the site's broker did not take the command within 5 s")
                    }
                    defer { group.cancelAll() }
                    try await group.next()
                }
                logger.notice("cloud command relayed", metadata: ["id": "\(command.id)", "topic": "\(local.topic)"])
                answer(id: command.id, refusal: nil, now: now)
            } catch let refusal as CommandRefusal {
                answer(id: command.id, refusal: refusal, now: now)
            } catch {
                answer(id: command.id, refusal: CommandRefusal("site", "\(error)"), now: now)
            }
        }
    }

    private func answer(id: String?, refusal: CommandRefusal?, now: Date) {
        let payload = CommandPolicy.result(id: id, refusal: refusal, at: now)
        do {
            try outbox.append(OutboxMessage(stream: CloudTopics.resultStream, payload: payload, sourceTime: now, class: .commandResult), now: now)
        } catch {
            logger.error("command result not stored", metadata: ["id": "\(id ?? "-")", "error": "\(error)"])
        }
    }
}
