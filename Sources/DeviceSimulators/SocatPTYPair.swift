import Foundation
import Modbus

/// Two linked pseudo-terminals made by socat: what one end writes, the other reads,
/// like two devices on an RS-485 pair. A pty ignores baud rate and parity settings.
///
/// socat is started with `posix_spawn` and an empty signal mask (threads of Swift
/// concurrency block signals, and a child would inherit that and ignore SIGTERM),
/// and is waited for by polling, never by a blocking wait on the cooperative pool.
public final class SocatPTYPair: Sendable {
    public let first: String
    public let second: String
    private let pid: pid_t

    private init(first: String, second: String, pid: pid_t) {
        self.first = first
        self.second = second
        self.pid = pid
    }

    /// Starts socat and waits (up to 5 s) until both links exist.
    public static func start(in folder: URL = FileManager.default.temporaryDirectory) async throws -> SocatPTYPair {
        let tag = UUID().uuidString.prefix(8)
        let first = folder.appendingPathComponent("phasor-pty-\(tag)-a").path
        let second = folder.appendingPathComponent("phasor-pty-\(tag)-b").path
        let arguments = ["socat", "pty,raw,echo=0,link=\(first)", "pty,raw,echo=0,link=\(second)"]
        let pid = try spawn(arguments)
        let pair = SocatPTYPair(first: first, second: second, pid: pid)
        for _ in 0..<250 {
            if FileManager.default.fileExists(atPath: first) && FileManager.default.fileExists(atPath: second) {
                return pair
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        await pair.stop()
        throw SpawnError(message: "socat did not create \(first) and \(second)")
    }

    /// Sends SIGTERM and reaps the process (SIGKILL after 2 s).
    public func stop() async {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for attempt in 0..<200 {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            if attempt == 100 { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private static func spawn(_ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard rc == 0 else { throw SpawnError(message: "cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}
