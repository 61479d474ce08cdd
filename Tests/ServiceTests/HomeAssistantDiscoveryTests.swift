import Foundation
import HomeAssistant
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// Home Assistant discovery as Home Assistant meets it: the real executables on a
/// real mosquitto, the retained `<prefix>/device/<node>/config` payloads read back,
/// checked against the discovery schema's facts and the Energy dashboard's rules,
/// commands sent where the discovered entities send them.
@Suite(.endToEnd) struct HomeAssistantDiscoveryTests {
    /// A discovery prefix of the test's own, so tests sharing the broker never meet.
    static func prefix() -> String { "ha\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func relaysAreSwitchesThatSwitchAndLeaveCleanlyWithTheSiteFile() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let prefix = Self.prefix()
        let topics = TopicBuilder(site: site)
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("site.yaml").path
        func write(relays: [String]) throws {
            let list = relays.map { "    - id: \($0)" }.joined(separator: "\n")
            try "site: \(site)\nhomeassistant:\n  prefix: \(prefix)\nmodbus:\n  devices: []\n  relays:\n\(list)\n"
                .write(toFile: config, atomically: true, encoding: .utf8)
        }
        try write(relays: ["boiler", "pump"])
        let args = ["--config", config, "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "warning"]
        let peer = try makeClient(port: port)
        try await peer.connect()
        let configs = try await peer.subscribe("\(prefix)/device/+/config", qos: .atLeastOnce)
        let discovered = DiscoveryCollector(configs)

        let gateway = try ChildProcess(executable("phasor-gateway"), args)
        let gatewayNode = "phasor_\(site)_gateway"
        let boilerNode = "phasor_\(site)_relay_boiler"
        let pumpNode = "phasor_\(site)_relay_pump"
        let payloads = try await discovered.waitFor([gatewayNode, boilerNode, pumpNode])
        for (node, payload) in payloads { #expect(DiscoveryFacts.problems(payload) == [], "\(node)") }
        if let result = try await HomeAssistantSchemas.validate(Array(discovered.all().values)) {
            #expect(result.status == 0, "\(result.output)")
        }

        // The relay is a switch on the existing command topic, never retained, reached via the gateway.
        let boiler = try #require(payloads[boilerNode])
        let device = try #require(boiler["device"] as? [String: Any])
        #expect(device["via_device"] as? String == gatewayNode)
        let relay = try #require((boiler["components"] as? [String: [String: Any]])?["relay"])
        #expect(relay["platform"] as? String == "switch")
        #expect(relay["retain"] as? Bool == false)
        let command = try #require(relay["command_topic"] as? String)
        #expect(command == topics.relayCommand("boiler"))
        #expect((boiler["availability"] as? [[String: Any]])?.compactMap { $0["topic"] as? String } == [topics.status(.gateway)])

        // What Home Assistant sends when the switch is turned on reaches the relay.
        let states = try await peer.subscribe(topics.relayState("boiler"), qos: .atLeastOnce)
        try peer.publish(MQTTMessage(topic: command, string: try #require(relay["payload_on"] as? String), qos: .atLeastOnce))
        let on = await next(states) { (try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any])?["on"] as? Bool == true }
        #expect(on != nil, "relay switched on through the discovered command topic")

        // Home Assistant restarts: its birth message gets every device again, live.
        discovered.forgetLive()
        try peer.publish(MQTTMessage(topic: "\(prefix)/status", string: "online", qos: .atLeastOnce))
        _ = try await discovered.waitForLive([gatewayNode, boilerNode, pumpNode])

        // The pump leaves the site file: after a restart its discovery and retained state are gone.
        #expect(await gateway.terminate() == 0)
        try write(relays: ["boiler"])
        let pumpConfig = DiscoveryPayload.topic(prefix: prefix, nodeID: pumpNode)
        let cleared = try await peer.subscribe(pumpConfig, qos: .atLeastOnce)
        let pumpState = try await peer.subscribe(topics.relayState("pump"), qos: .atLeastOnce)
        _ = await next(cleared)  // the retained copy
        let restarted = try ChildProcess(executable("phasor-gateway"), args)
        defer { restarted.terminateBlocking() }
        #expect(await next(cleared) { $0.payload.isEmpty } != nil, "the pump's discovery is cleared")
        #expect(await next(pumpState) { $0.payload.isEmpty } != nil, "the pump's retained state is cleared")
        let registry = try await peer.subscribe(topics.homeAssistantRegistry(.gateway), qos: .atLeastOnce)
        let kept = try #require(await next(registry) { DiscoveryRegistry.decode($0.payload)?.devices["relay_pump"] == nil })
        #expect(DiscoveryRegistry.decode(kept.payload)?.devices["relay_boiler"]?.node == boilerNode)
        await peer.shutdown()
    }

    @Test func theDemoMeterMeetsTheEnergyDashboardsRulesAndCarriesItsAvailability() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let topics = TopicBuilder(site: site)
        let prefix = Self.prefix()
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("site.yaml").path
        try "site: \(site)\nhomeassistant:\n  prefix: \(prefix)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let peer = try makeClient(port: port)
        try await peer.connect()
        let discovered = DiscoveryCollector(try await peer.subscribe("\(prefix)/device/+/config", qos: .atLeastOnce))
        let gateway = try ChildProcess(
            executable("phasor-gateway"),
            ["--config", config, "--demo", "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "warning"])
        defer { gateway.terminateBlocking() }
        let node = "phasor_\(site)_demo_grid"
        let payload = try #require(try await discovered.waitFor([node])[node])
        #expect(DiscoveryFacts.problems(payload) == [])
        let components = try #require(payload["components"] as? [String: [String: Any]])
        for key in ["power", "power_import", "power_export", "energy_import_t1", "energy_export_t2", "current_l1", "voltage_l1"] {
            #expect(components[key] != nil, "\(key) announced")
        }
        #expect(components["energy_import_t1"]?["state_class"] as? String == "total_increasing")
        #expect(components["power"]?["device_class"] as? String == "power")
        // Registers the dashboard reads are non-negative numbers on their state topics.
        for (key, component) in components where component["device_class"] as? String == "energy" {
            let topic = try #require(component["state_topic"] as? String)
            let value = try await peer.subscribe(topic, qos: .atLeastOnce)
            let message = try #require(await next(value), "\(key) has a value")
            let number = try #require(Double(String(decoding: message.payload, as: UTF8.self)), "\(key) is a number")
            #expect(number >= 0, "\(key)")
            value.cancel()
        }
        let availability = (payload["availability"] as? [[String: Any]])?.compactMap { $0["topic"] as? String }
        #expect(availability == [topics.status(.gateway)], "the demo meter has no line to lose: the gateway's status")
        if let result = try await HomeAssistantSchemas.validate(Array(discovered.all().values)) {
            #expect(result.status == 0, "\(result.output)")
        }
        await peer.shutdown()
    }

    @Test func controlsSlidersModesAndCurrentsThroughItsDiscoveredEntities() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let topics = TopicBuilder(site: site)
        let peer = try makeClient(port: port)
        try await peer.connect()
        let discovered = DiscoveryCollector(try await peer.subscribe("homeassistant/device/+/config", qos: .atLeastOnce))
        let states = try await peer.subscribe(topics.controlState, qos: .atLeastOnce)
        let control = try ChildProcess(
            executable("phasor-control"),
            ["--demo", "--site", site, "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "warning",
             "--state-dir", try temporaryFolder().path])
        defer { control.terminateBlocking() }
        let controlNode = "phasor_\(site)_control"
        let cpNode = "phasor_\(site)_control_cp1"
        let payloads = try await discovered.waitFor([controlNode, cpNode, "phasor_\(site)_control_cp2"])
        for (node, payload) in payloads { #expect(DiscoveryFacts.problems(payload) == [], "\(node)") }
        let point = try #require(payloads[cpNode]?["components"] as? [String: [String: Any]])
        let mode = try #require(point["mode"])
        #expect(mode["options"] as? [String] == ["automatic", "manual", "solar", "off"])
        let current = try #require(point["manual_current"])
        #expect(current["min"] as? Double == 6)
        #expect(current["max"] as? Double == 16)
        let slider = try #require((payloads[controlNode]?["components"] as? [String: [String: Any]])?["slider"])

        // Home Assistant sends plain values on the command topics; control applies them.
        try peer.publish(MQTTMessage(topic: try #require(mode["command_topic"] as? String), string: "solar", qos: .atLeastOnce))
        try peer.publish(MQTTMessage(topic: try #require(current["command_topic"] as? String), string: "10", qos: .atLeastOnce))
        try peer.publish(MQTTMessage(topic: try #require(slider["command_topic"] as? String), string: "7.5", qos: .atLeastOnce))
        let applied = await next(states, timeout: .seconds(15)) { message in
            guard let state = try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any],
                  let points = state["charge_points"] as? [[String: Any]],
                  let cp1 = points.first(where: { $0["id"] as? String == "cp1" }) else { return false }
            return cp1["mode"] as? String == "solar" && cp1["manual_current"] as? Double == 10
                && state["slider_kw"] as? Double == 7.5
        }
        #expect(applied != nil, "mode, manual current and slider applied")
        if let result = try await HomeAssistantSchemas.validate(Array(discovered.all().filter { payloads[$0.key] != nil }.values)) {
            #expect(result.status == 0, "\(result.output)")
        }
        await peer.shutdown()
    }

    @Test func aModbusMeterThatNeverAnswersIsAnnouncedAndUnavailable() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let topics = TopicBuilder(site: site)
        let prefix = Self.prefix()
        let silent = Loopback.freePort()
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("site.yaml").path
        try """
        site: \(site)
        homeassistant: {prefix: \(prefix)}
        modbus:
          devices:
            - {id: sdm, profile: eastron_sdm630, host: 127.0.0.1, port: \(silent), tcp_gateway: true, timeout_ms: 100, retries: 0}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let peer = try makeClient(port: port)
        try await peer.connect()
        let discovered = DiscoveryCollector(try await peer.subscribe("\(prefix)/device/+/config", qos: .atLeastOnce))
        let availability = try await peer.subscribe(topics.deviceAvailability("sdm"), qos: .atLeastOnce)
        let gateway = try ChildProcess(
            executable("phasor-gateway"), ["--config", config, "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "warning"])
        defer { gateway.terminateBlocking() }
        let node = "phasor_\(site)_modbus_127_0_0_1_\(silent)_u1_eastron_sdm630"
        let payload = try #require(try await discovered.waitFor([node])[node])
        #expect(DiscoveryFacts.problems(payload) == [])
        let device = try #require(payload["device"] as? [String: Any])
        #expect(device["manufacturer"] as? String == "Eastron")
        let components = try #require(payload["components"] as? [String: [String: Any]])
        #expect(components["energy_import"]?["device_class"] as? String == "energy", "the profile's registers, before any answer")
        let topicsListed = (payload["availability"] as? [[String: Any]])?.compactMap { $0["topic"] as? String }
        #expect(topicsListed == [topics.status(.gateway), topics.deviceAvailability("sdm")])
        if let result = try await HomeAssistantSchemas.validate(Array(discovered.all().values)) {
            #expect(result.status == 0, "\(result.output)")
        }
        // Home Assistant shows it unavailable: its own availability topic says so.
        #expect(await next(availability, timeout: .seconds(20)) { String(decoding: $0.payload, as: UTF8.self) == "offline" } != nil)
        await peer.shutdown()
    }

    @Test func discoveryCanBeTurnedOff() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let prefix = Self.prefix()
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("site.yaml").path
        try "site: \(site)\nhomeassistant:\n  discovery: false\n  prefix: \(prefix)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let peer = try makeClient(port: port)
        try await peer.connect()
        let configs = try await peer.subscribe("\(prefix)/#", qos: .atLeastOnce)
        let meter = try await peer.subscribe(TopicBuilder(site: site).meterState("grid"), qos: .atLeastOnce)
        let gateway = try ChildProcess(
            executable("phasor-gateway"),
            ["--config", config, "--demo", "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "warning"])
        defer { gateway.terminateBlocking() }
        #expect(await next(meter) != nil, "the gateway runs")
        #expect(await next(configs, timeout: .seconds(2)) == nil, "and announces nothing")
        await peer.shutdown()
    }
}

func temporaryFolder() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ha-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Collects discovery payloads by node id as they arrive.
final class DiscoveryCollector: Sendable {
    private let seen = Locked<[String: [UInt8]]>([:])
    private let live = Locked<Set<String>>([])
    private let task: Task<Void, Never>

    init(_ subscription: MQTTSubscription) {
        let seen = self.seen
        let live = self.live
        task = Task {
            for await m in subscription {
                let node = m.topic.split(separator: "/").dropLast().last.map(String.init) ?? m.topic
                seen.withLock { $0[node] = m.payload }
                if !m.retain { live.withLock { _ = $0.insert(node) } }
            }
        }
    }

    deinit { task.cancel() }

    func all() -> [String: [UInt8]] { seen.withLock { $0 }.filter { !$0.value.isEmpty } }
    func forgetLive() { live.withLock { $0 = [] } }

    /// The payloads of `nodes`, once each has arrived (up to `timeout`).
    func waitFor(_ nodes: Set<String>, timeout: Duration = .seconds(20)) async throws -> [String: [String: Any]] {
        try await arrive(timeout: timeout) { nodes.isSubset(of: Set(self.all().keys)) }
        return try all().filter { nodes.contains($0.key) }.mapValues {
            try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])
        }
    }

    func waitForLive(_ nodes: Set<String>, timeout: Duration = .seconds(10)) async throws {
        try await arrive(timeout: timeout) { nodes.isSubset(of: self.live.withLock { $0 }) }
    }

    /// The shared poll (`PhasorTesting.eventually`, which looks once more after its deadline),
    /// failing with what did arrive.
    private func arrive(timeout: Duration, _ done: () -> Bool) async throws {
        let arrived = await eventually(timeout: timeout) { done() }
        try #require(arrived, "discovery did not arrive: \(Array(all().keys))")
    }
}

/// The discovery schema's required facts (HA `DEVICE_DISCOVERY_SCHEMA` and the
/// platforms' schemas) and the Energy dashboard's rules, checked on a decoded payload.
enum DiscoveryFacts {
    static let platforms: Set<String> = ["sensor", "binary_sensor", "number", "select", "switch", "button"]

    static func problems(_ payload: [String: Any]) -> [String] {
        var problems: [String] = []
        let device = payload["device"] as? [String: Any]
        if (device?["identifiers"] as? [String])?.isEmpty != false { problems.append("device.identifiers missing") }
        if (payload["origin"] as? [String: Any])?["name"] as? String == nil { problems.append("origin.name missing") }
        guard let components = payload["components"] as? [String: [String: Any]], !components.isEmpty else {
            return problems + ["no components"]
        }
        var uniqueIDs: Set<String> = []
        for (key, c) in components {
            guard let platform = c["platform"] as? String, platforms.contains(platform) else { problems.append("\(key): platform"); continue }
            guard let id = c["unique_id"] as? String, uniqueIDs.insert(id).inserted else { problems.append("\(key): unique_id"); continue }
            if let name = c["name"] as? String, let deviceName = device?["name"] as? String, name.hasPrefix(deviceName + " ") {
                problems.append("\(key): name repeats the device name")
            }
            switch platform {
            case "sensor":
                if c["state_topic"] == nil { problems.append("\(key): state_topic") }
                let cls = EntityClass(deviceClass: c["device_class"] as? String, stateClass: c["state_class"] as? String,
                                      unit: c["unit_of_measurement"] as? String)
                if let p = EnergyDashboard.problem(cls) { problems.append("\(key): \(p)") }
            case "number":
                if c["command_topic"] == nil || c["min"] == nil || c["max"] == nil { problems.append("\(key): number range/command") }
            case "select":
                if c["command_topic"] == nil || (c["options"] as? [String])?.isEmpty != false { problems.append("\(key): options") }
            case "switch", "button":
                if c["command_topic"] == nil { problems.append("\(key): command_topic") }
            default: break
            }
            if c["command_topic"] != nil, c["retain"] as? Bool != false { problems.append("\(key): command may be retained") }
        }
        return problems
    }
}

/// Home Assistant's own schemas (`homeassistant==2025.4.4` from PyPI) through
/// scripts/validate-ha-discovery.py, when PHASOR_HA_PYTHON names a Python that has it.
enum HomeAssistantSchemas {
    static func validate(_ payloads: [[UInt8]]) async throws -> (status: Int32, output: String)? {
        guard let python = ProcessInfo.processInfo.environment["PHASOR_HA_PYTHON"] else { return nil }
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [String] = []
        for (i, payload) in payloads.enumerated() {
            let path = dir.appendingPathComponent("\(i).json").path
            try Data(payload).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let out = dir.appendingPathComponent("out.txt").path
        let p = try ChildProcess(python, [repositoryRoot.appendingPathComponent("scripts/validate-ha-discovery.py").path] + files,
                                 outputFile: out)
        let status = await p.waitForExit(timeout: .seconds(120)) ?? -1
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }
}
