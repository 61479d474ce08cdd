import Foundation
import PhasorTesting
import Testing
import TestTraits

/// The bridge's section is checked like every other: one line naming file, line and
/// field, exit 2 (systemd does not restart for it).
@Suite("Bridge site check", .endToEnd) struct BridgeSiteCheckTests {
    func run(_ yaml: String) async throws -> (Int32?, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-bridge-check-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("site.yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let log = folder.appendingPathComponent("out.log").path
        let p = try ChildProcess(BuiltExecutables.path("phasor-bridge"), ["--config", file], outputFile: log)
        let status = await p.waitForExit(timeout: .seconds(20))
        return (status, ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").replacingOccurrences(of: file, with: "site.yaml"))
    }

    @Test func aBadBridgeSectionStopsTheBridgeWithFileLineAndField() async throws {
        let cases: [(String, String)] = [
            ("  cloud:\n    url: ftp://x\n", "site.yaml:6: bridge.cloud.url"),
            ("  cloud:\n    url: mqtts://x\n    cert_file: /nonexistent/site.crt\n", "site.yaml:7: bridge.cloud.cert_file: cannot read"),
            ("  cloud:\n    url: mqtt://x\n    protocol: \"4\"\n", "site.yaml:7: bridge.cloud.protocol"),
            ("  cloud:\n    url: mqtt://x\n  outbox:\n    max_bytes: 10\n", "site.yaml:8: bridge.outbox.max_bytes: 10: use at least"),
            ("  cloud:\n    url: mqtt://x\n  outbox:\n    durability: disk\n", "site.yaml:8: bridge.outbox.durability"),
            ("  cloud:\n    url: mqtt://x\n  forward:\n    - {topic: \"meter/#/x\", class: energy}\n", "bridge.forward[0].topic"),
            ("  cloud:\n    url: mqtt://x\n  commands:\n    allow: [reboot]\n", "bridge.commands.allow"),
            ("  cloud:\n    url: mqtt://x\n    backlog_rte: 5\n", "site.yaml:7: bridge.cloud.backlog_rte"),
            ("  cloud:\n    url: mqtt://x\n  aggregate:\n    - {topic: meter/+/state, energy_s: 700}\n", "bridge.aggregate[0].energy_s: 700"),
            ("  cloud:\n    url: mqtt://x\n  aggregate:\n    - {topic: meter/+/state}\n", "bridge.aggregate[0].average_s: give"),
            ("  cloud:\n    url: mqtt://x\n  aggregate:\n    - {topic: meter/+/state, avg_s: 10}\n", "bridge.aggregate[0].avg_s"),
            ("  cloud:\n    url: mqtt://x\n    ack_timeout_s: 1\n", "site.yaml:7: bridge.cloud.ack_timeout_s: 1: use 5…3600"),
        ]
        for (section, expected) in cases {
            let (status, output) = try await run("site: home\nbroker:\n  url: mqtt://127.0.0.1:1\nbridge:\n" + section)
            #expect(status == 2, "\(section): \(output)")
            #expect(output.contains(expected), "\(section): \(output)")
        }
    }
}
