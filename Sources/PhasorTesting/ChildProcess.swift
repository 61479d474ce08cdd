import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, for brokers, socat and Phasor's own
/// executables in tests and the demo.
///
/// Why not `Foundation.Process`: its `waitUntilExit()` blocks a cooperative thread
/// (a whole `swift test` hung on 2 cores), and processes spawned from concurrency
/// threads inherit libdispatch's blocked signals, so mosquitto ignored SIGTERM.
/// Here the signal mask is emptied and waiting polls with `WNOHANG`.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let executable: String
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable` (a path, or a name looked up in `PATH`) with `arguments`.
    /// Output goes to `outputFile` (appended), to our own stdout/stderr with
    /// `inheritOutput`, or is discarded.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        outputFile: String? = nil, inheritOutput: Bool = false
    ) throws {
        self.executable = executable
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        if !inheritOutput {
            let out = outputFile ?? "/dev/null"
            posix_spawn_file_actions_addopen(&fileActions, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, executable, &fileActions, &attributes, argv, env)
        guard rc == 0 else {
            throw ChildProcessError.spawnFailed(executable, String(cString: strerror(rc)))
        }
        self.pid = pid
    }

    /// Exit status if the process has ended (reaps it), else nil. Signals are
    /// reported as 128 + signal number, as shells do.
    public func poll() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return nil }
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        exitStatus = code
        return code
    }

    public var isRunning: Bool { poll() == nil }

    public func signal(_ sig: Int32) {
        if isRunning { kill(pid, sig) }
    }

    /// Waits for the exit without blocking a thread of the cooperative pool.
    public func waitForExit(timeout: Duration = .seconds(10)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let s = poll() { return s }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return poll()
    }

    /// Synchronous variant for non-async contexts (deinit, atexit paths).
    public func waitForExitBlocking(timeout: TimeInterval = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = poll() { return s }
            usleep(10_000)
        }
        return poll()
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    @discardableResult
    public func terminate(grace: Duration = .seconds(5)) async -> Int32? {
        signal(SIGTERM)
        if let s = await waitForExit(timeout: grace) { return s }
        signal(SIGKILL)
        return await waitForExit(timeout: .seconds(5))
    }

    public func terminateBlocking() {
        signal(SIGTERM)
        if waitForExitBlocking(timeout: 5) == nil {
            signal(SIGKILL)
            _ = waitForExitBlocking(timeout: 5)
        }
    }
}

public enum ChildProcessError: Error, CustomStringConvertible {
    case spawnFailed(String, String)
    case notReady(String)
    public var description: String {
        switch self {
        case .spawnFailed(let exe, let why): "cannot start \(exe): \(why)"
        case .notReady(let what): what
        }
    }
}
