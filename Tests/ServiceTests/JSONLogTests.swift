import Foundation
import PhasorTesting
import Testing
import TestTraits

/// `--log-format json`: every line a service writes is one JSON object a log pipeline can read.
@Suite(.endToEnd) struct JSONLogTests {
    @Test func everyLogLineIsOneJSONObject() async throws {
        let port = try await SharedBroker.port()
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("log.txt").path
        let gateway = try ChildProcess(
            executable("phasor-gateway"),
            ["--demo", "--site", uniqueSite(), "--broker", "mqtt://127.0.0.1:\(port)", "--log-format", "json", "--log-level", "info"],
            outputFile: out)
        var lines: [Substring] = []
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            lines = text.split(separator: "\n")
            if lines.contains(where: { $0.contains("service starting") }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(await gateway.terminate() == 0)
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        lines = text.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            #expect(object["message"] is String && object["level"] is String && object["time"] is String, "\(line)")
        }
        let starting = try #require(lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["message"] as? String == "service starting" })
        #expect(starting["service"] as? String == "gateway")
        #expect(starting["label"] as? String == "phasor.gateway")
    }

    @Test func anUnknownFormatIsRefusedWithExit2() async throws {
        let p = try ChildProcess(executable("phasor-gateway"), ["--demo", "--site", "x", "--log-format", "xml"])
        #expect(await p.waitForExit() == 2)
    }
}
