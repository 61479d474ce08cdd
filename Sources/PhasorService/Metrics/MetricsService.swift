import Logging
import PhasorCore
import ServiceLifecycle

/// Serves `GET /metrics` (Prometheus text format 0.0.4) on one HTTP port: the
/// process's `PhasorMetrics.registry`, refreshed by `beforeScrape` (MQTT queue
/// depth and the like are read when asked), over `MetricsHTTPServer`.
public final class MetricsService: Service, Sendable {
    let bind: String
    let port: Int
    let beforeScrape: @Sendable () -> Void
    let logger: Logger
    private let listening = Locked<Int?>(nil)

    public init(bind: String = MetricsConfiguration.defaultBind, port: Int, logger: Logger,
                beforeScrape: @escaping @Sendable () -> Void = {}) {
        self.bind = bind
        self.port = port
        self.logger = logger
        self.beforeScrape = beforeScrape
    }

    /// The port actually bound (differs from `port` when 0 was asked for).
    public var listeningPort: Int? { listening.withLock { $0 } }

    /// A port that cannot be bound (busy, bad address) is logged and retried every
    /// few seconds: metrics never stop the service they describe.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await serve()
                return
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled || error is CancellationError { return }
                logger.error("metrics not served", metadata: ["port": "\(port)", "bind": "\(bind)", "error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(5))
        }
    }

    private func serve() async throws {
        let server = try MetricsHTTPServer(bind: bind, port: port)
        listening.withLock { $0 = server.port }
        logger.info("metrics listening", metadata: ["address": "http://\(bind):\(server.port)/metrics"])
        let refresh = beforeScrape
        server.start { path in
            guard path == "/metrics" else { return nil }
            refresh()
            return .init(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                         body: PhasorMetrics.exposition())
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await server.waitUntilStopped()
            } onCancel: {
                server.stop()
            }
        } onGracefulShutdown: {
            server.stop()
        }
    }
}
