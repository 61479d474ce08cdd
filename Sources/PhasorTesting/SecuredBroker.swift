import Foundation

/// A mosquitto locked down the way deploy/ installs it: no anonymous clients,
/// one user per service plus `operator`, passwords hashed by `mosquitto_passwd`,
/// and the project's ACL file. The demo runs on it and tests prove the ACL.
public struct SecuredBroker: Sendable {
    public let broker: MosquittoBroker
    /// Files holding each user's password (first line), for `--password-file`.
    public let passwordFiles: [String: String]

    /// The service users, `operator`, and `viewer`: a user the ACL gives no `user`
    /// block, so it reads only (a dashboard). Client ids are bound to usernames.
    public static let users = ["gateway", "control", "bridge", "operator", "viewer"]

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
        let passwd = dir.appendingPathComponent("phasor.passwd").path
        _ = FileManager.default.createFile(atPath: passwd, contents: nil, attributes: [.posixPermissions: 0o600])
        var files: [String: String] = [:]
        for user in users {
            let password = UUID().uuidString
            let file = dir.appendingPathComponent(user).path
            _ = FileManager.default.createFile(atPath: file, contents: Data((password + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
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
        return SecuredBroker(broker: broker, passwordFiles: files)
    }

    public func password(_ user: String) -> String? {
        passwordFiles[user].flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?
            .split(whereSeparator: \.isNewline).first.map(String.init)
    }
}
