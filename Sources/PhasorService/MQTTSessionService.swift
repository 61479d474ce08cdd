import Foundation
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// The service's MQTT session as a lifecycle `Service`: it connects (retrying in
/// the background, so a service may start before its broker), announces
/// `online` on `…/status/<service>`, and on graceful shutdown publishes `offline`
/// and disconnects cleanly. If the process dies instead, the broker publishes the
/// retained `offline` will.
///
/// While running it also beats: a retained `HeartbeatPayload` on
/// `…/status/<service>/heartbeat` every `heartbeatInterval`, with the process's
/// start time, so others can tell a live `online` from one left behind.
///
/// Put it first in the `ServiceGroup`: groups stop in reverse order, so the
/// session outlives the services that publish through it.
public final class MQTTSessionService: Service, Sendable {
    public let client: MQTTClient
    public let settings: ServiceSettings
    private let logger: Logger
    private let clock: any WallClock
    private let heartbeatInterval: TimeInterval
    private let started: Date

    public init(settings: ServiceSettings, logger: Logger, clock: any WallClock = SystemWallClock(),
                heartbeatInterval: TimeInterval = HeartbeatPayload.defaultInterval) throws {
        self.settings = settings
        self.logger = logger
        self.clock = clock
        self.heartbeatInterval = heartbeatInterval
        self.started = clock.now()
        self.client = try MQTTClient(configuration: settings.mqtt, logger: logger)
    }

    public func run() async throws {
        client.start()
        logger.info(
            "service starting",
            metadata: ["service": "\(settings.service.rawValue)", "site": "\(settings.topics.site)",
                       "broker": "\(settings.mqtt.host):\(settings.mqtt.port)", "status_topic": "\(settings.topics.status(settings.service))"])
        // Beat until shutdown is requested, then say goodbye.
        let beating = Task { await beat() }
        try? await gracefulShutdown()
        beating.cancel()
        await client.shutdown(
            finalMessage: MQTTMessage(topic: settings.topics.status(settings.service), string: "offline", qos: .atLeastOnce, retain: true))
        logger.info("service stopped", metadata: ["service": "\(settings.service.rawValue)"])
    }

    private func beat() async {
        let topic = settings.topics.heartbeat(settings.service)
        while !Task.isCancelled {
            let beat = HeartbeatPayload(service: settings.service.rawValue, started: started, time: clock.now(),
                                        interval: heartbeatInterval)
            // Queued while the broker is away; its time says how old it is when it arrives.
            do {
                try client.publish(MQTTMessage(topic: topic, payload: beat.encode(), qos: .atLeastOnce, retain: true,
                                               properties: MQTTPublishProperties(contentType: "application/json")))
            } catch {
                logger.debug("heartbeat not sent", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: .seconds(heartbeatInterval)) } catch { return }
        }
    }
}
