import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// The README's first command: `phasor demo` starts a locked-down broker, the
/// simulated devices and the three services, and the loop closes: the gateway
/// reads the simulated meter and chargers, control decides, the cars charge.
@Suite(.endToEnd) struct DemoTests {
    @Test func theDemoSiteChargesBothCarsUnderControl() async throws {
        let port = Loopback.freePort()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString.prefix(6)).txt").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let demo = try ChildProcess(
            executable("phasor"),
            ["demo", "--port", "\(port)", "--duration", "150", "--log-level", "warning",
             "--acl-file", repositoryRoot.appendingPathComponent("deploy/mosquitto/phasor.acl").path],
            outputFile: out)
        defer { demo.terminateBlocking() }

        let client = try await demoOperatorClient(port: port, banner: out)
        let states = try await client.subscribe("phasor/demo/chargepoint/+/state", qos: .atLeastOnce)
        // For the failure message: the last reason control gave per point.
        let setpoints = try await client.subscribe("phasor/demo/chargepoint/+/setpoint", qos: .atLeastOnce)
        let reasons = Locked<[String: String]>([:])
        let reasonWatcher = Task {
            for await m in setpoints {
                if let sp = try? SetpointPayload.decode(m.payload) {
                    reasons.withLock { $0[m.topic] = "\(sp.current) A: \(sp.reason ?? "-") at \(sp.time.map { "\($0)" } ?? "-")" }
                }
            }
        }
        defer { reasonWatcher.cancel() }
        let charging = Locked<Set<String>>([])
        let watcher = Task {
            for await m in states {
                guard let state = try? ChargePointStatePayload.decode(m.payload), state.status == .charging,
                    (state.currents.compactMap { $0 }.max() ?? 0) >= 6
                else { continue }
                if charging.withLock({ $0.insert(state.id); return $0.count == 2 }) { return }
            }
        }
        let until = ContinuousClock.now + .seconds(30)
        while charging.withLock({ $0.count }) < 2, ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(100)) }
        watcher.cancel()
        #expect(charging.withLock { $0 } == ["cp1", "cp2"],
                "both simulated cars draw at least 6 A; setpoints: \(reasons.withLock { $0 }); the demo said: \(Self.tail(out))")

        // The grid meter sees the cars: its busiest phase carries more than the household.
        let meter = try await client.subscribe("phasor/demo/meter/grid/state", qos: .atLeastOnce)
        let reading = try #require(await meter.next(timeout: .seconds(10)), "the demo said: \(Self.tail(out))")
        let decoded = try ReadingPayload.decode(reading.payload)
        let currents = (1...3).compactMap { decoded.values[Quantity.current.phase($0)]?.number }
        #expect((currents.max() ?? 0) > 6)
        await client.shutdown()
    }

    /// The end of what the demo printed (its services log warnings there), for a failure message.
    static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(3000))
    }
}
