import Foundation
import PhasorTesting
import Testing
import TestTraits

/// `phasor licence` end to end: the vendor makes a key and issues a licence for the
/// serial a box requests; the box verifies and installs it; refused ones are not installed.
@Suite(.endToEnd) struct LicenceCommandTests {
    struct Folder {
        let url: URL
        var machineID: String { url.appendingPathComponent("machine-id").path }
        var installed: String { url.appendingPathComponent("var/licence.txt").path }

        func run(_ arguments: [String]) async throws -> (status: Int32?, output: String) {
            let out = url.appendingPathComponent("out-\(UUID().uuidString.prefix(4)).txt").path
            let process = try ChildProcess(BuiltExecutables.path("phasor"), arguments, outputFile: out)
            let status = await process.waitForExit(timeout: .seconds(20))
            if status == nil { _ = await process.terminate(grace: .seconds(1)) }
            return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
        }

        /// What the box passes to every command: its machine id, where its licence lives, whom it trusts.
        func box(_ key: String) -> [String] {
            ["--machine-id-file", machineID, "--file", installed, "--state-dir", url.appendingPathComponent("state").path,
             "--trusted-key", "vendor-1=\(key)"]
        }
    }

    @Test func issueVerifyInstallAndShow() async throws {
        let folder = Folder(url: try temporaryFolder())
        defer { try? FileManager.default.removeItem(at: folder.url) }
        try "0123456789abcdef0123456789abcdef\n".write(toFile: folder.machineID, atomically: true, encoding: .utf8)

        let request = try await folder.run(["licence", "request", "--machine-id-file", folder.machineID])
        #expect(request.status == 0)
        let serial = try #require(request.output.split(separator: "\n").first?.replacingOccurrences(of: "serial: ", with: ""))
        #expect(serial.hasPrefix("PHS-"))

        let privateKey = folder.url.appendingPathComponent("vendor.key").path
        let keygen = try await folder.run(["licence", "keygen", "--output", privateKey])
        #expect(keygen.status == 0)
        let publicKey = keygen.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let mode = try FileManager.default.attributesOfItem(atPath: privateKey)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the private key is readable by its owner only")

        let issued = try await folder.run(["licence", "issue", "--private-key", privateKey, "--key-id", "vendor-1", "--serial", serial,
                                           "--customer", "Dupont SA", "--days", "365", "--code"])
        #expect(issued.status == 0, "\(issued.output)")
        let code = issued.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!code.contains(" ") && !code.isEmpty)

        let verify = try await folder.run(["licence", "verify", code] + folder.box(publicKey))
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("state:    valid") && verify.output.contains("tier:     control"))

        let install = try await folder.run(["licence", "install", code] + folder.box(publicKey))
        #expect(install.status == 0, "\(install.output)")
        #expect(try String(contentsOfFile: folder.installed, encoding: .utf8).hasPrefix("phasor-licence-v1\nkey_id=vendor-1\n"))

        let show = try await folder.run(["licence", "show"] + folder.box(publicKey))
        #expect(show.output.contains("serial:   \(serial)") && show.output.contains("Dupont SA") && show.output.contains("(365 days)"))
        #expect(show.output.contains("never depend on the licence"))

        // A licence for another box is refused and not installed over the good one.
        let other = try await folder.run(["licence", "issue", "--private-key", privateKey, "--key-id", "vendor-1",
                                          "--serial", "PHS-0000-0000-0000-0000"])
        let otherFile = folder.url.appendingPathComponent("other.txt").path
        try other.output.write(toFile: otherFile, atomically: true, encoding: .utf8)
        let refused = try await folder.run(["licence", "install", otherFile] + folder.box(publicKey))
        #expect(refused.status == 1)
        #expect(refused.output.contains("issued for PHS-0000-0000-0000-0000, this box is \(serial)"), "\(refused.output)")
        #expect(try await folder.run(["licence", "show"] + folder.box(publicKey)).output.contains("state:    valid"))

        // Without the vendor's key in the trusted set: refused, with the reason.
        let untrusted = try await folder.run(["licence", "verify", code, "--machine-id-file", folder.machineID])
        #expect(untrusted.status == 1)
        #expect(untrusted.output.contains("signed with key 'vendor-1', which this box does not trust"))
    }
}
