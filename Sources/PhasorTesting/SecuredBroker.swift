import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A mosquitto locked down the way deploy/ installs it: no anonymous clients,
/// one user per service plus `operator`, passwords hashed by `mosquitto_passwd`,
/// and the project's ACL file. The demo runs on it and tests prove the ACL.
///
/// The credentials (password files and mosquitto's hashed passwd) live in a folder
/// only the user can read (0700, files 0600) and are removed by `stop()`.
public struct SecuredBroker: Sendable {
    public let broker: MosquittoBroker
    /// Files holding each user's password (first line), for `--password-file`.
    public let passwordFiles: [String: String]
    /// The folder of the credentials.
    public let credentials: URL

    /// The service users, `operator`, and `viewer`: a user the ACL gives no `user`
    /// block, so it reads only (a dashboard); `bridge_outbox` (the bridge's outbox
    /// intake) reads only too. Client ids are bound to usernames.
    public static let users = ["gateway", "control", "bridge", "operator", "viewer", "bridge_outbox"]

    /// The mosquitto_passwd executable: Debian ships it with mosquitto.
    static var passwdTool: String {
        for candidate in ["/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "mosquitto_passwd"
    }

    /// Starts a broker with `aclFile` (deploy/mosquitto/phasor.acl) and a fresh
    /// random password per user.
    public static func start(aclFile: String, port: Int? = nil, persistence: Bool = false) async throws -> SecuredBroker {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-credentials-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        do {
            let passwd = dir.appendingPathComponent("phasor.passwd").path
            try writePrivate(passwd, "")
            var files: [String: String] = [:]
            for user in users {
                let password = UUID().uuidString
                let file = dir.appendingPathComponent(user).path
                try writePrivate(file, password + "\n")
                files[user] = file
                let tool = try ChildProcess(passwdTool, ["-b", passwd, user, password], outputFile: "/dev/null")
                guard await tool.waitForExit(timeout: .seconds(20)) == 0 else {
                    throw ChildProcessError.notReady("mosquitto_passwd failed for user \(user)")
                }
            }
            let broker = try await MosquittoBroker.start(
                // As deploy/mosquitto/phasor.conf (DeployTests keeps the two in step).
                options: .init(persistence: persistence,
                               extraConfiguration: ["use_username_as_clientid true", "password_file \(passwd)", "acl_file \(aclFile)"],
                               allowAnonymous: false),
                port: port)
            return SecuredBroker(broker: broker, passwordFiles: files, credentials: dir)
        } catch {
            try? FileManager.default.removeItem(at: dir)
            throw error
        }
    }

    /// Stops the broker and removes the credentials.
    public func stop() async {
        await broker.stop()
        try? FileManager.default.removeItem(at: credentials)
    }

    /// Creates `path` readable and writable by the user only, from the first byte on
    /// (no window in which the file exists with wider permissions).
    private static func writePrivate(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw ChildProcessError.notReady("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw ChildProcessError.notReady("cannot write \(path)")
        }
    }

    public func password(_ user: String) -> String? {
        passwordFiles[user].flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?
            .split(whereSeparator: \.isNewline).first.map(String.init)
    }
}
