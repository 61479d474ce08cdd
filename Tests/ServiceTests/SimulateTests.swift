import DeviceSimulators
import Foundation
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// The README's way to try the example site without hardware: `phasor simulate
/// docs/examples/site.yaml` serves its devices, and the three services run on the
/// site file it writes, on this machine (no GPIO), with a real broker: meter states
/// flow, control sends every charge point its setpoint, the chargers apply them.
@Suite(.endToEnd) struct SimulateTests {
    @Test func theExampleSiteRunsEndToEndOnSimulatedDevices() async throws {
        let port = try await SharedBroker.port()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("simulate-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let siteFile = folder.appendingPathComponent("site.yaml").path
        let simulateOut = folder.appendingPathComponent("simulate.txt").path
        let example = repositoryRoot.appendingPathComponent("docs/examples/site.yaml").path
        let simulate = try ChildProcess(executable("phasor"),
                                        ["simulate", example, "--output", siteFile, "--broker", "mqtt://127.0.0.1:\(port)"],
                                        outputFile: simulateOut)
        defer { simulate.terminateBlocking() }
        func simulateText() -> String { (try? String(contentsOfFile: simulateOut, encoding: .utf8)) ?? "" }
        #expect(await eventually(timeout: .seconds(30)) { simulateText().contains("phasor-control --config \(siteFile)") },
                "the banner says how to run the services: \(simulateText())")

        // The example's site id is `home`: a fresh one keeps this test's topics apart.
        let site = uniqueSite()
        let watcher = try makeClient(port: port)
        try await watcher.connect()
        let topics = TopicBuilder(site: site)
        let states = try await watcher.subscribe("\(topics.root)/meter/+/state", qos: .atLeastOnce)
        let setpoints = try await watcher.subscribe("\(topics.root)/chargepoint/+/setpoint", qos: .atLeastOnce)
        let chargers = try await watcher.subscribe("\(topics.root)/chargepoint/+/state", qos: .atLeastOnce)
        var services: [ChildProcess] = []
        defer { for s in services { s.terminateBlocking() } }
        for name in ["gateway", "control", "bridge"] {
            services.append(try ChildProcess(
                executable("phasor-\(name)"), ["--config", siteFile, "--site", site, "--log-level", "warning"],
                outputFile: folder.appendingPathComponent("\(name).log").path))
        }
        func logs() -> String {
            ["gateway", "control", "bridge"].map { name in
                "\(name): " + ((try? String(contentsOfFile: folder.appendingPathComponent("\(name).log").path, encoding: .utf8)) ?? "")
            }.joined(separator: "\n")
        }

        // Every meter of the example but the S0 input (no GPIO here) publishes its state.
        let meters = Locked<Set<String>>([])
        let meterWatcher = Task {
            for await m in states {
                let id = m.topic.split(separator: "/").dropLast().last.map(String.init) ?? ""
                if meters.withLock({ $0.insert(id); return $0.isSuperset(of: ["grid", "linky", "pv", "heatpump_meter"]) }) { return }
            }
        }
        // Control sets every charge point; the gateway reports each one online.
        let decided = Locked<Set<String>>([])
        let setpointWatcher = Task {
            for await m in setpoints where (try? SetpointPayload.decode(m.payload)) != nil {
                let id = m.topic.split(separator: "/").dropLast().last.map(String.init) ?? ""
                if decided.withLock({ $0.insert(id); return $0.count == 3 }) { return }
            }
        }
        let online = Locked<Set<String>>([])
        let chargerWatcher = Task {
            for await m in chargers {
                guard let state = try? ChargePointStatePayload.decode(m.payload), state.online else { continue }
                if online.withLock({ $0.insert(state.id); return $0.count == 3 }) { return }
            }
        }
        defer { meterWatcher.cancel(); setpointWatcher.cancel(); chargerWatcher.cancel() }
        #expect(await eventually(timeout: .seconds(30)) { meters.withLock { $0.isSuperset(of: ["grid", "linky", "pv", "heatpump_meter"]) } },
                "meters: \(meters.withLock { $0 })\n\(logs())")
        #expect(await eventually(timeout: .seconds(30)) { decided.withLock { $0 } == ["cp1", "cp2", "cp3"] },
                "setpoints: \(decided.withLock { $0 })\n\(logs())")
        #expect(await eventually(timeout: .seconds(30)) { online.withLock { $0 } == ["cp1", "cp2", "cp3"] },
                "chargers online: \(online.withLock { $0 })\n\(logs())")
        // The loop is closed: the main meter sees the cars charging (more than the household alone).
        let grid = try await watcher.subscribe(topics.meterState("grid"), qos: .atLeastOnce)
        let loaded = await grid.next(timeout: .seconds(60)) { m in
            guard let reading = try? ReadingPayload.decode(m.payload) else { return false }
            return (1...3).compactMap { reading.values[Quantity.current.phase($0)]?.number }.reduce(0, +) > 18
        }
        #expect(loaded != nil, "the grid meter carries the cars' currents\n\(logs())")
        let allRunning = services.allSatisfy { $0.isRunning }
        #expect(allRunning, "\(logs())")
        #expect(simulate.isRunning)
        await watcher.shutdown()
    }
}
