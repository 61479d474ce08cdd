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
/// Put it first in the `ServiceGroup`: groups stop in reverse order, so the
/// session outlives the services that publish through it.
public final class MQTTSessionService: Service, Sendable {
    public let client: MQTTClient
    public let settings: ServiceSettings
    private let logger: Logger

    public init(settings: ServiceSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        self.client = try MQTTClient(configuration: settings.mqtt, logger: logger)
    }

    public func run() async throws {
        client.start()
        logger.info(
            "service starting",
            metadata: ["service": "\(settings.service.rawValue)", "site": "\(settings.topics.site)",
                       "broker": "\(settings.mqtt.host):\(settings.mqtt.port)", "status_topic": "\(settings.topics.status(settings.service))"])
        // Run until shutdown is requested, then say goodbye.
        try? await gracefulShutdown()
        await client.shutdown(
            finalMessage: MQTTMessage(topic: settings.topics.status(settings.service), string: "offline", qos: .atLeastOnce, retain: true))
        logger.info("service stopped", metadata: ["service": "\(settings.service.rawValue)"])
    }
}
