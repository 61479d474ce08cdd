import BridgeAlerts
import BridgeDelivery
import Foundation
import Logging
import PhasorCore

/// The bridge's alerting in one place, on an injected clock: the rule engine,
/// Alertmanager-like grouping, the MQTT state, and hand-over of notifications to
/// the `AlertQueue` for every external channel. Every part of the bridge that
/// knows of a problem (service watch, licence, outbox) raises it here.
public final class AlertCenter: Sendable {
    struct State: Sendable {
        var engine: AlertEngine
        var dispatcher: AlertDispatcher
    }

    private let state: Locked<State>
    let channels: [String]
    let queue: any AlertQueue
    let publish: @Sendable (Alert) -> Void
    /// Whether the licence allows external delivery (`alerts` feature). Licence
    /// alerts themselves always go out: they say why the others may not.
    let externalAllowed: @Sendable () -> Bool
    let clock: any WallClock
    let logger: Logger
    private let refusedLogged = Locked(false)

    public init(engine: AlertEngine, route: AlertDispatcher.Route, channels: [String], queue: any AlertQueue,
                clock: any WallClock, logger: Logger, externalAllowed: @escaping @Sendable () -> Bool = { true },
                publish: @escaping @Sendable (Alert) -> Void) {
        state = Locked(State(engine: engine, dispatcher: AlertDispatcher(route: route)))
        self.channels = channels
        self.queue = queue
        self.clock = clock
        self.logger = logger
        self.externalAllowed = externalAllowed
        self.publish = publish
    }

    public var subscriptions: [String] { state.withLock { $0.engine.subscriptions } }
    public var texts: AlertTexts { state.withLock { $0.engine.texts } }
    public var active: [Alert] { state.withLock { Array($0.engine.active.values) } }

    /// An alert's retained MQTT state from a previous run (see `AlertEngine.restore`).
    public func restore(mqttState payload: [UInt8]) {
        guard let alert = AlertFormats.alert(fromMQTT: payload) else { return }
        state.withLock { $0.engine.restore(alert) }
    }

    /// A message on a topic under the site's root.
    public func observe(topic: String, payload: [UInt8]) {
        let now = clock.now()
        apply(state.withLock { $0.engine.observe(topic: topic, payload: payload, at: now) }, at: now)
    }

    public func event(_ name: String, device: String? = nil, active: Bool, severity: AlertSeverity, summary: String) {
        let now = clock.now()
        apply(state.withLock { $0.engine.event(name, device: device, active: active, severity: severity, summary: summary, at: now) },
              at: now)
    }

    /// Delays, no-data, windows; then the notifications due, handed to the queue.
    public func tick() async {
        let now = clock.now()
        apply(state.withLock { $0.engine.tick(at: now) }, at: now)
        let due = state.withLock { $0.dispatcher.tick(at: now) }
        for notification in due {
            let aboutLicence = notification.alerts.allSatisfy { $0.name.hasPrefix("licence") }
            guard aboutLicence || externalAllowed() else {
                if refusedLogged.withLock({ let first = !$0; $0 = true; return first }) {
                    logger.warning("alerts go out on MQTT only: webhook, ntfy and e-mail need a licence with the `alerts` feature")
                }
                continue
            }
            for channel in channels {
                do {
                    try await queue.enqueue(AlertDelivery(channel: channel, notification: notification))
                } catch {
                    logger.error("alert not queued", metadata: ["channel": "\(channel)", "error": "\(error)"])
                }
            }
        }
    }

    private func apply(_ transitions: [AlertTransition], at now: Date) {
        for t in transitions {
            if t.alert.status == .firing {
                logger.warning("alert", metadata: ["id": "\(t.alert.id)", "summary": "\(t.alert.summary)"])
            } else {
                logger.notice("alert resolved", metadata: ["id": "\(t.alert.id)"])
            }
            publish(t.alert)
            state.withLock { $0.dispatcher.add(t.alert, at: now) }
        }
    }
}
