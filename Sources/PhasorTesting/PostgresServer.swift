import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server (Debian's `postgresql` package) in a throw-away folder,
/// on a free loopback port, for the cloud-side tests and the fleet benchmark. Run as
/// root, it runs as the `postgres` user (PostgreSQL refuses root).
public final class PostgresServer: @unchecked Sendable {
    public let directory: URL
    public let port: Int
    private let process: ChildProcess

    /// libpq's connection string for the `postgres` database.
    public var conninfo: String { "host=127.0.0.1 port=\(port) user=postgres dbname=postgres connect_timeout=5" }
    public var logFile: String { directory.appendingPathComponent("postgres.log").path }

    /// The folder of Debian's server binaries (`/usr/lib/postgresql/<version>/bin`), if installed.
    public static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/postgres") }
    }

    public static var isAvailable: Bool { binaries != nil }

    private init(directory: URL, port: Int, process: ChildProcess) {
        self.directory = directory
        self.port = port
        self.process = process
    }

    public static func start() async throws -> PostgresServer {
        guard let bin = binaries else { throw ChildProcessError.notReady("PostgreSQL is not installed (apt-get install postgresql)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-pg-\(UUID().uuidString.prefix(8))")
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot {
            for path in [dir.path, data.path] {
                try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: path)
            }
        }
        func command(_ tool: String, _ args: [String]) -> (String, [String]) {
            // setpriv execs the server itself (no parent in between), so signals reach it.
            asRoot
                ? ("setpriv", ["--reuid=postgres", "--regid=postgres", "--clear-groups", "--", "\(bin)/\(tool)"] + args)
                : ("\(bin)/\(tool)", args)
        }
        let log = dir.appendingPathComponent("postgres.log").path
        let (initTool, initArgs) = command("initdb", ["-D", data.path, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        let initdb = try ChildProcess(initTool, initArgs, outputFile: dir.appendingPathComponent("initdb.log").path)
        guard await initdb.waitForExit(timeout: .seconds(120)) == 0 else {
            let text = (try? String(contentsOfFile: dir.appendingPathComponent("initdb.log").path, encoding: .utf8)) ?? ""
            throw ChildProcessError.notReady("initdb failed: \(text.suffix(500))")
        }
        let port = Loopback.freePort()
        let (tool, args) = command("postgres", [
            "-D", data.path, "-p", "\(port)", "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=\(dir.path)",
            "-c", "fsync=off", "-c", "max_connections=50",
        ])
        let p = try ChildProcess(tool, args, outputFile: log)
        let server = PostgresServer(directory: dir, port: port, process: p)
        guard await Loopback.waitUntilListening(port: port, timeout: .seconds(60)) else {
            await p.terminate()
            throw ChildProcessError.notReady("postgres did not listen on \(port): \(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(500))")
        }
        // Listening is not ready: it answers "the database system is starting up" for a while.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let probe = try ChildProcess("\(bin)/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "postgres"])
            if await probe.waitForExit(timeout: .seconds(10)) == 0 { return server }
            try await Task.sleep(for: .milliseconds(100))
        }
        await server.stop()
        throw ChildProcessError.notReady("postgres on \(port) never became ready")
    }

    /// Fast shutdown (SIGINT), then the folder is removed.
    public func stop() async {
        process.signal(SIGINT)
        _ = await process.waitForExit(timeout: .seconds(20))
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        if process.isRunning { process.signal(SIGINT) }
    }
}
