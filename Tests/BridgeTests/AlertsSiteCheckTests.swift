import Foundation
import PhasorTesting
import Testing
import TestTraits

/// The bridge's sections of the site file are checked by `phasor config check` and by
/// phasor-bridge at start alike: one line `file:line: field: message`, exit 2 (line 1 is `site: h`).
@Suite(.endToEnd) struct AlertsSiteCheckTests {
    static let refused: [(String, String)] = [
        ("alerts:\n  rules:\n    - {id: high, topic: meter/m/power, above: 10, clear: 12}\n",
         ":4: alerts.rules[0].clear: 12: the clear level of `above` 10 must be at or below it (hysteresis)"),
        ("alerts:\n  rules:\n    - {id: x, topic: meter/m/power, above: 10}\n    - {id: x, topic: meter/m/power, below: 1}\n",
         ":5: alerts.rules[1].id: 'x' is used twice"),
        ("alerts:\n  rules:\n    - id: w\n      topic: meter/m/power\n      above: 1\n      window: {from: '7:00', to: '22:00'}\n",
         ":7: alerts.rules[0].window: from '7:00': use HH:MM, 00:00…24:00"),
        ("alerts:\n  time_zone: Mars/Olympus\n", ":3: alerts.time_zone: 'Mars/Olympus': use an IANA zone such as Europe/Brussels"),
        ("alerts:\n  webhooks:\n    - {url: 'ftp://x'}\n", ":4: alerts.webhooks[0].url: 'ftp://x': use http://host… or https://host…"),
        ("alerts:\n  email:\n    - {server: 'smtp://mail.example:25', security: none, username: u, password_file: /etc/hostname, from: a@b, to: [c@d]}\n",
         ":4: alerts.email[0].security: 'none' would send the password in clear: use starttls or tls"),
        ("licence:\n  trusted_keys: {k1: nope}\n", ":3: licence.trusted_keys.k1: not a base64 Ed25519 public key (32 bytes)"),
        ("licence:\n  machine_id_file: /nonexistent/machine-id\n",
         ":3: licence.machine_id_file: cannot read '/nonexistent/machine-id' (the serial number comes from it)"),
    ]

    @Test(arguments: refused)
    func configCheckAndTheBridgeRefuseWithTheSameLine(section: String, expected: String) async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("site.yaml").path
        try ("site: h\n" + section).write(toFile: file, atomically: true, encoding: .utf8)
        var outputs: [String] = []
        for (binary, arguments) in [("phasor", ["config", "check", file]), ("phasor-bridge", ["--config", file])] {
            let out = folder.appendingPathComponent("\(binary).txt").path
            let process = try ChildProcess(BuiltExecutables.path(binary), arguments, outputFile: out)
            let status = await process.waitForExit(timeout: .seconds(20))
            if status == nil { _ = await process.terminate(grace: .seconds(1)) }
            let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            #expect(status == 2, "\(binary): \(output)")
            #expect(output.hasPrefix("error: \(file)\(expected)"), "\(binary): \(output)")
            outputs.append(output)
        }
        #expect(outputs[0] == outputs[1])
    }
}
