import Foundation
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `/metrics` of the real services, scraped over HTTP and parsed with
/// prometheus_client's text-format parser (PHASOR_PYTHON), as Prometheus reads it.
@Suite(.endToEnd) struct MetricsTests {
    func scrape(_ port: Int) async throws -> String {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/metrics"))
        let (data, response) = try await URLSession.shared.data(from: url)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        return String(decoding: data, as: UTF8.self)
    }

    /// Samples as prometheus_client parsed them: `name{labels} value type=…` per line.
    func parse(_ text: String) async throws -> [String] {
        guard let python = ProcessInfo.processInfo.environment["PHASOR_PYTHON"] else {
            // Without the peer: the exposition's sample lines, read by the format's grammar.
            return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        }
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("metrics.txt").path
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.txt").path
        let p = try ChildProcess(python, [repositoryRoot.appendingPathComponent("scripts/parse-prometheus.py").path, input],
                                 outputFile: out)
        let status = await p.waitForExit(timeout: .seconds(30))
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(output)")
        return output.split(separator: "\n").map(String.init)
    }

    func value(_ samples: [String], _ prefix: String) -> Double? {
        samples.first { $0.hasPrefix(prefix) }.flatMap { line in
            line.split(separator: " ").dropFirst().first.flatMap { Double($0) }
        }
    }

    @Test func controlServesDecisionLatencyAndMQTTQueueMetrics() async throws {
        let port = try await SharedBroker.port()
        let metricsPort = Loopback.freePort()
        let control = try ChildProcess(
            executable("phasor-control"),
            ["--demo", "--site", uniqueSite(), "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "warning",
             "--state-dir", try temporaryFolder().path, "--metrics-port", "\(metricsPort)"])
        defer { control.terminateBlocking() }
        #expect(await Loopback.waitUntilListening(port: metricsPort))
        // Decisions come at least once a second: wait for two.
        var samples: [String] = []
        let deadline = ContinuousClock.now + .seconds(15)
        repeat {
            samples = try await parse(try await scrape(metricsPort))
            if (value(samples, "phasor_control_decisions_total") ?? 0) >= 2 { break }
            try await Task.sleep(for: .milliseconds(200))
        } while ContinuousClock.now < deadline
        #expect((value(samples, "phasor_control_decisions_total") ?? 0) >= 2, "\(samples)")
        #expect((value(samples, "phasor_control_decision_duration_seconds_count") ?? 0) >= 2)
        #expect(value(samples, "phasor_mqtt_connected") == 1)
        #expect(value(samples, "phasor_mqtt_offline_queue_depth") == 0)
        #expect(value(samples, "phasor_mqtt_offline_dropped_total") == 0)
        #expect((value(samples, "phasor_mqtt_published_total") ?? 0) > 0)
    }

    @Test func gatewayCountsModbusRequestsPerDevice() async throws {
        let port = try await SharedBroker.port()
        let metricsPort = Loopback.freePort()
        // A device nobody answers for: its requests and timeouts are what an operator must see.
        let silent = Loopback.freePort()
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("site.yaml").path
        try """
        site: \(uniqueSite())
        metrics:
          gateway: \(metricsPort)
        modbus:
          devices:
            - id: sdm
              profile: eastron_sdm630
              host: 127.0.0.1
              port: \(silent)
              tcp_gateway: true
              timeout_ms: 100
              retries: 0
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let gateway = try ChildProcess(
            executable("phasor-gateway"), ["--config", config, "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "warning"])
        defer { gateway.terminateBlocking() }
        #expect(await Loopback.waitUntilListening(port: metricsPort))
        var samples: [String] = []
        let deadline = ContinuousClock.now + .seconds(15)
        repeat {
            samples = try await parse(try await scrape(metricsPort))
            if (value(samples, "phasor_modbus_errors_total{device=sdm}") ?? 0) >= 1 { break }
            try await Task.sleep(for: .milliseconds(200))
        } while ContinuousClock.now < deadline
        #expect((value(samples, "phasor_modbus_requests_total{device=sdm}") ?? 0) >= 1, "\(samples)")
        #expect((value(samples, "phasor_modbus_errors_total{device=sdm}") ?? 0) >= 1, "\(samples)")
    }
}
