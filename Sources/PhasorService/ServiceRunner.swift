import Foundation
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// Starts a Phasor service process: logging, the MQTT session, the service's own
/// pieces (each a `Service`), one `ServiceGroup` that stops gracefully on SIGTERM
/// and SIGINT.
public enum ServiceRunner {
    /// Bootstraps swift-log once per process with key=value output on stderr.
    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Runs `makeServices(session)` beside the MQTT session until a signal arrives.
    public static func run(
        _ service: ServiceName, options: ServiceOptions,
        makeServices: (MQTTSessionService, Logger) throws -> [any Service]
    ) async throws {
        let settings: ServiceSettings
        do {
            settings = try options.resolve(service: service)
        } catch let error as ConfigError {
            // One line naming file, line and field; exit non-zero.
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(2)
        }
        bootstrapLogging(level: settings.logLevel)
        var logger = Logger(label: "phasor.\(service.rawValue)")
        logger[metadataKey: "site"] = "\(settings.topics.site)"
        let beat = options.heartbeatInterval ?? HeartbeatPayload.defaultInterval
        guard beat.isFinite, beat >= 0.1 else {
            FileHandle.standardError.write(Data("error: --heartbeat-interval: use seconds ≥ 0.1\n".utf8))
            exit(64)
        }
        let session = try MQTTSessionService(settings: settings, logger: logger, heartbeatInterval: beat)
        let services: [any Service] = [session] + (try makeServices(session, logger))
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
