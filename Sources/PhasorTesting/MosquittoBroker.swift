import Foundation

/// A real mosquitto broker on a free loopback port, for tests, benchmarks and the
/// demo. It runs from its own folder (config, persistence, log), can be killed and
/// restarted on the same port with its persistence, and is stopped by PID.
public final class MosquittoBroker: @unchecked Sendable {
    public struct TLSFiles: Sendable {
        public var caFile: String
        public var certificateFile: String
        public var keyFile: String
        public init(caFile: String, certificateFile: String, keyFile: String) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public struct Options: Sendable {
        public var persistence: Bool = true
        public var tls: TLSFiles?
        /// Extra lines appended to mosquitto.conf (password_file, acl_file, …).
        public var extraConfiguration: [String] = []
        public var allowAnonymous: Bool = true
        public init(persistence: Bool = true, tls: TLSFiles? = nil, extraConfiguration: [String] = [],
                    allowAnonymous: Bool = true) {
            self.persistence = persistence
            self.tls = tls
            self.extraConfiguration = extraConfiguration
            self.allowAnonymous = allowAnonymous
        }
    }

    public let port: Int
    public let directory: URL
    public let options: Options
    private let lock = NSLock()
    private var process: ChildProcess?

    public var host: String { "127.0.0.1" }
    public var url: String { "\(options.tls == nil ? "mqtt" : "mqtts")://127.0.0.1:\(port)" }
    public var logFile: String { directory.appendingPathComponent("mosquitto.log").path }
    public var pid: Int32? { lock.withLock { process?.pid } }

    /// The mosquitto executable: Debian installs it in /usr/sbin, outside a user's PATH.
    public static var executable: String {
        for candidate in ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "mosquitto"
    }

    private init(port: Int, directory: URL, options: Options) {
        self.port = port
        self.directory = directory
        self.options = options
    }

    /// Starts a broker and waits until it accepts connections.
    public static func start(options: Options = Options(), port: Int? = nil) async throws -> MosquittoBroker {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-mosquitto-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let broker = MosquittoBroker(port: port ?? Loopback.freePort(), directory: dir, options: options)
        try broker.writeConfiguration()
        try await broker.launch()
        return broker
    }

    private func writeConfiguration() throws {
        var lines = [
            "listener \(port) 127.0.0.1",
            "allow_anonymous \(options.allowAnonymous)",
            // Run as whoever started us: as root mosquitto would switch to 'mosquitto',
            // which cannot write our temporary folder.
            "user \(NSUserName())",
            "log_dest file \(logFile)",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "connection_messages true",
            // The default (1000) silently drops QoS 1 messages for slow or absent subscribers.
            "max_queued_messages 1000000",
            // Without it a PUBLISH queued behind unacknowledged PUBACKs waits for the
            // receiver's delayed ACK: ~40 ms per hop (docs/pitfalls.md).
            "set_tcp_nodelay true",
            // Not 0 (unlimited): mosquitto 2.0.11 then overruns an MQTT 5 subscriber's
            // receive maximum with QoS 2 and the subscriber drops with a protocol error.
        ]
        if options.persistence {
            // Save after every change, so a SIGKILL loses no session or queued message.
            lines += ["persistence true", "persistence_location \(directory.path)/", "autosave_interval 1", "autosave_on_changes true"]
        }
        if let tls = options.tls {
            lines += ["cafile \(tls.caFile)", "certfile \(tls.certificateFile)", "keyfile \(tls.keyFile)"]
        }
        lines += options.extraConfiguration
        try (lines.joined(separator: "\n") + "\n").write(
            to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
    }

    private func launch() async throws {
        let p = try ChildProcess(
            MosquittoBroker.executable, ["-c", directory.appendingPathComponent("mosquitto.conf").path],
            outputFile: directory.appendingPathComponent("stdout.log").path)
        lock.withLock { process = p }
        guard await Loopback.waitUntilListening(port: port) else {
            await p.terminate()
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw ChildProcessError.notReady("mosquitto did not listen on \(port): \(log.suffix(500))")
        }
    }

    /// Stops the broker gracefully (SIGTERM; it saves persistence), SIGKILL after 5 s.
    public func stop() async {
        guard let p = lock.withLock({ process }) else { return }
        await p.terminate()
        lock.withLock { process = nil }
    }

    /// Kills the broker without warning (SIGKILL): clients see the connection drop.
    public func kill() async {
        guard let p = lock.withLock({ process }) else { return }
        p.signal(SIGKILL)
        _ = await p.waitForExit()
        lock.withLock { process = nil }
    }

    /// Starts it again on the same port with the same persistence folder.
    public func restart() async throws {
        await stop()
        try await launch()
    }

    /// Starts it again after `stop()` or `kill()`.
    public func startAgain() async throws { try await launch() }

    deinit {
        process?.terminateBlocking()
        try? FileManager.default.removeItem(at: directory)
    }
}
