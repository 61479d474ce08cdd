import Foundation
import PhasorTesting
import Testing
import TestTraits

/// deploy/ as an installer uses it: the example site file is valid and the
/// install script stages binaries, broker config, ACL, credentials and units.
@Suite(.endToEnd) struct DeployTests {
    /// The site files we hand to users pass `phasor config check` and the published
    /// schema (validated by Python's jsonschema, an implementation none of us wrote).
    @Test(arguments: ["deploy/site.example.yaml", "docs/examples/site.yaml"])
    func exampleSiteFilesPassConfigCheckAndTheSchema(path: String) async throws {
        let file = repositoryRoot.appendingPathComponent(path).path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString.prefix(6)).txt").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let p = try ChildProcess(executable("phasor"), ["config", "check", file], outputFile: out)
        let status = await p.waitForExit()
        #expect(status == 0, "\((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")")
        let yaml = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        if let result = try await validate([yaml], against: "config.schema.json", fileExtension: "yaml") {
            #expect(result.status == 0, "\(result.output)")
        }
    }

    /// The shipped broker config binds client ids to usernames, as the SecuredBroker
    /// the access-control tests run on does (AccessControlTests proves what it stops).
    @Test func theShippedBrokerConfigBindsClientIDsToUsernames() throws {
        let conf = try String(contentsOf: repositoryRoot.appendingPathComponent("deploy/mosquitto/phasor.conf"), encoding: .utf8)
        let lines = conf.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let listener = try #require(lines.firstIndex { $0.hasPrefix("listener ") })
        let bound = try #require(lines.firstIndex(of: "use_username_as_clientid true"), "phasor.conf must bind client ids")
        #expect(bound > listener, "a listener setting: it must follow the listener line")
        #expect(!lines.contains { $0.hasPrefix("clientid_prefixes") }, "mosquitto forbids it with use_username_as_clientid")
    }

    @Test func installScriptStagesEverythingWithHashedPasswords() async throws {
        let stage = FileManager.default.temporaryDirectory.appendingPathComponent("stage-\(UUID().uuidString.prefix(6))")
        defer { try? FileManager.default.removeItem(at: stage) }
        let log = stage.path + ".log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        var env = ProcessInfo.processInfo.environment
        env["DESTDIR"] = stage.path
        env["PHASOR_BIN_DIR"] = binDirectory.path
        let p = try ChildProcess(
            "/bin/bash", [repositoryRoot.appendingPathComponent("deploy/install.sh").path], environment: env, outputFile: log)
        let status = await p.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let fm = FileManager.default
        for path in ["usr/local/bin/phasor-gateway", "usr/local/bin/phasor-control", "usr/local/bin/phasor-bridge",
                     "etc/mosquitto/conf.d/phasor.conf", "etc/mosquitto/phasor.acl", "etc/phasor/site.yaml",
                     "etc/systemd/system/phasor-gateway.service", "etc/systemd/system/phasor-control.service",
                     "etc/systemd/system/phasor-bridge.service"] {
            #expect(fm.fileExists(atPath: stage.appendingPathComponent(path).path), "\(path) staged")
        }
        let passwd = try String(contentsOf: stage.appendingPathComponent("etc/mosquitto/phasor.passwd"), encoding: .utf8)
        for user in SecuredBroker.users {
            let password = try String(contentsOf: stage.appendingPathComponent("etc/phasor/credentials/\(user)"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(password.count >= 24, "\(user) has a long random password")
            let line = passwd.split(separator: "\n").first { $0.hasPrefix("\(user):") }
            #expect(line?.contains("$") == true, "\(user) is in the password file, hashed")
            #expect(line?.contains(password) == false, "the password file holds no clear text")
        }
        let attributes = try fm.attributesOfItem(atPath: stage.appendingPathComponent("etc/phasor/credentials/operator").path)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0, "credentials are private")
    }
}
