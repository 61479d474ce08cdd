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
    public static func bootstrapLogging(level: Logger.Level, format: LogFormat = .text) {
        LoggingSystem.bootstrap { label in
            if format == .json { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Runs `makeServices(session)` beside the MQTT session until a signal arrives.
    ///
    /// A problem with the site file or the flags — from `checks` (the service's
    /// own `SiteCheck`) or thrown by `makeServices` (as a `ConfigError`, or any error
    /// while building the pieces) — prints one line and exits 2: systemd does not
    /// restart a service for it (`RestartPreventExitStatus=2`), since nothing changes
    /// until someone edits the file.
    public static func run(
        _ service: ServiceName, options: ServiceOptions, checks: [any SiteCheck] = [], demo: Bool = false,
        makeServices: (MQTTSessionService, Logger) throws -> [any Service]
    ) async throws {
        let settings: ServiceSettings
        do {
            settings = try options.resolve(service: service, checks: checks, demo: demo)
        } catch {
            refuse(error)
        }
        bootstrapLogging(level: settings.logLevel, format: settings.logFormat)
        var logger = Logger(label: "phasor.\(service.rawValue)")
        logger[metadataKey: "site"] = "\(settings.topics.site)"
        for warning in settings.warnings { logger.warning("site file", metadata: ["warning": "\(warning)"]) }
        let beat = options.heartbeatInterval ?? HeartbeatPayload.defaultInterval
        guard beat.isFinite, beat >= 0.1 else {
            refuse(ServiceOptions.flagError("--heartbeat-interval", "use seconds ≥ 0.1"))
        }
        let session = try MQTTSessionService(settings: settings, logger: logger, heartbeatInterval: beat)
        let own: [any Service]
        do { own = try makeServices(session, logger) } catch { refuse(error) }
        var services: [any Service] = [session] + own
        if let port = options.metricsPort ?? settings.site.metrics?.port(of: service) {
            let client = session.client
            services.append(MetricsService(
                bind: settings.site.metrics?.bind ?? MetricsConfiguration.defaultBind, port: port, logger: logger,
                beforeScrape: { PhasorMetrics.recordMQTT(client) }))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// One line on stderr, exit 2.
    public static func refuse(_ error: any Error) -> Never {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(2)
    }
}