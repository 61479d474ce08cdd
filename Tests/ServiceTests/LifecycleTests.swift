import Foundation
import MQTT
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// The executables as a user runs them, against a real broker.
@Suite(.endToEnd) struct LifecycleTests {
    @Test(arguments: ["phasor-gateway", "phasor-control", "phasor-bridge"])
    func announcesOnlineGoesOfflineOnSIGTERMAndLeavesItsWillOnSIGKILL(binary: String) async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let service = String(binary.dropFirst("phasor-".count))
        let statusTopic = "phasor/\(site)/status/\(service)"
        let watcher = try makeClient(port: port)
        try await watcher.connect()
        let statuses = try await watcher.subscribe(statusTopic, qos: .atLeastOnce)
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: stateDir) }
        // Nothing configured: the gateway and control would refuse to start (exit 2); the demo is asked for.
        let args = ["--broker", "mqtt://127.0.0.1:\(port)", "--site", site, "--log-level", "warning"]
            + (binary == "phasor-control" ? ["--state-dir", stateDir.path, "--demo"] : [])
            + (binary == "phasor-gateway" ? ["--demo"] : [])

        let first = try ChildProcess(executable(binary), args)
        #expect(await next(statuses)?.string == "online")
        first.signal(SIGTERM)
        #expect(await next(statuses)?.string == "offline")
        #expect(await first.waitForExit() == 0, "graceful exit status")

        let second = try ChildProcess(executable(binary), args)
        #expect(await next(statuses)?.string == "online")
        second.signal(SIGKILL)
        #expect(await next(statuses, timeout: .seconds(15))?.string == "offline", "the broker published the will")
        _ = await second.waitForExit()

        // A subscriber arriving later still learns the service is offline (retained).
        let late = try makeClient(port: port)
        try await late.connect()
        let retained = await next(try await late.subscribe(statusTopic, qos: .atLeastOnce))
        #expect(retained?.string == "offline")
        #expect(retained?.retain == true)
        await late.shutdown()
        await watcher.shutdown()
    }

    @Test(arguments: [
        ("site: home\nbroker:\n  url: [oops\n", "YAML syntax error"),
        ("site: home\nbroker:\n  url: mqtt://127.0.0.1\n  keepalive: 5\n", "broker.keepalive: unknown field"),
        ("site: home\nlogging:\n  level: loud\n", "logging.level"),
    ])
    func badConfigGivesOneLineNamingFileLineAndFieldAndExitsNonZero(yaml: String, expected: String) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("site.yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.txt").path
        for binary in ["phasor-gateway", "phasor-control", "phasor-bridge"] {
            try? FileManager.default.removeItem(atPath: out)
            let p = try ChildProcess(executable(binary), ["--config", file], outputFile: out)
            let status = await p.waitForExit()
            #expect(status != 0 && status != nil, "\(binary) exit status")
            let lines = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n")
            #expect(lines.count == 1, "\(binary) printed \(lines)")
            let line = String(lines.first ?? "")
            #expect(line.contains("\(file):"), "names the file: \(line)")
            #expect(line.range(of: #"site\.yaml:\d+:"#, options: .regularExpression) != nil, "names the line: \(line)")
            #expect(line.contains(expected), "names the field: \(line)")
        }
        let check = try ChildProcess(executable("phasor"), ["config", "check", file], outputFile: out)
        #expect(await check.waitForExit() == 2)
    }

    @Test func configCheckAcceptsAGoodFileAndAllFlagsResolve() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("site.yaml").path
        let yaml = """
            site: home
            prefix: phasor
            broker:
              url: mqtt://127.0.0.1:1883
              protocol: "3.1.1"
              keep_alive: 20
              offline_queue:
                capacity: 500
                when_full: reject_new
            logging:
              level: debug
            control:
              budget:
                slider_kw: 4.5
              state_dir: /tmp/phasor-config-check
              site:
                id: main
                current_limit: [25, 25, 32]
                meter: grid
                charge_points:
                  - {id: cp1, max_current: 16}
                  - {id: cp2, max_current: 32, phases: 1, rotation: L2L3L1, mode: solar}
            """
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.txt").path
        let p = try ChildProcess(executable("phasor"), ["config", "check", file], outputFile: out)
        #expect(await p.waitForExit() == 0)
        #expect(((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("ok (site 'home')"))
        // The same file is valid for the published JSON Schema (YAML read by Python).
        if let result = try await validate([Array(yaml.utf8)], against: "config.schema.json", fileExtension: "yaml") {
            #expect(result.status == 0, "\(result.output)")
        }
    }
}
