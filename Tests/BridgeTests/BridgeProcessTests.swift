import BridgeLicences
import Crypto
import DeviceSimulators
import Foundation
import Logging
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// The real executables: phasor-gateway reading a Modbus simulator, phasor-control,
/// phasor-bridge with a site file's alerts and licence, a real broker and a real
/// HTTP receiver.
@Suite(.serialized, .endToEnd) struct BridgeProcessTests {
    static let keyID = "test-1"

    /// A folder with a machine id, a signing key, and a site file for all three services.
    struct Rig {
        let site = "br\(UUID().uuidString.prefix(8))"
        let folder: URL
        let key = Curve25519.Signing.PrivateKey().rawRepresentation
        let brokerPort: Int
        var topics: TopicBuilder { TopicBuilder(site: site) }
        var signing: Curve25519.Signing.PrivateKey { try! .init(rawRepresentation: key) }
        var serial: String { MachineSerial.serial(machineID: "5f3e2a9c0d1b4e6f8a7c9b0d1e2f3a4b") }
        var config: String { folder.appendingPathComponent("site.yaml").path }
        var licenceFile: String { folder.appendingPathComponent("licence.txt").path }
        var stateDir: String { folder.appendingPathComponent("state").path }

        init(webhookPort: Int?) async throws {
            folder = try temporaryFolder("rig")
            brokerPort = try await SharedBroker.port()
            try "5f3e2a9c0d1b4e6f8a7c9b0d1e2f3a4b\n".write(to: folder.appendingPathComponent("machine-id"), atomically: true, encoding: .utf8)
            try "hook-secret\n".write(to: folder.appendingPathComponent("secret"), atomically: true, encoding: .utf8)
            var yaml = """
                site: \(site)
                alerts:
                  route: {group_wait_s: 0, group_interval_s: 1}

                """
            if let webhookPort {
                yaml += """
                      webhooks:
                        - {name: ops, url: "http://127.0.0.1:\(webhookPort)/hook", secret_file: \(folder.appendingPathComponent("secret").path)}

                    """
            }
            yaml += """
                licence:
                  file: \(licenceFile)
                  state_dir: \(stateDir)
                  machine_id_file: \(folder.appendingPathComponent("machine-id").path)
                  trusted_keys: {\(BridgeProcessTests.keyID): \(signing.publicKey.rawRepresentation.base64EncodedString())}

                """
            try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        }

        var common: [String] {
            ["--config", config, "--broker", "mqtt://127.0.0.1:\(brokerPort)", "--log-level", "info", "--heartbeat-interval", "1"]
        }

        func start(_ name: String, _ extra: [String] = []) throws -> ChildProcess {
            try ChildProcess(BuiltExecutables.path(name), common + extra, outputFile: folder.appendingPathComponent("\(name).log").path)
        }

        func log(_ name: String) -> String {
            (try? String(contentsOfFile: folder.appendingPathComponent("\(name).log").path, encoding: .utf8)) ?? ""
        }

        func licence(serials: [String]? = nil, from: Date, days: Double, grace: Int = 14) -> Licence {
            Licence(id: "L-\(UUID().uuidString.prefix(4))", customer: "Test", serials: serials ?? [serial], tier: "control",
                    maxDevices: 10, maxChargePoints: 4, cloud: false, issued: from, notBefore: from,
                    expires: from + days * 86_400, graceDays: grace)
        }

        func sign(_ l: Licence, key: Curve25519.Signing.PrivateKey? = nil, keyID: String = BridgeProcessTests.keyID) throws -> String {
            try LicenceFile.sign(l, keyID: keyID, with: key ?? signing).text
        }
    }

    /// Everything published under the site, kept with the time it arrived.
    final class Recorder: Sendable {
        let log = Locked<[(at: Date, message: MQTTMessage)]>([])
        let task: Task<Void, Never>
        init(_ subscription: MQTTSubscription) {
            let log = self.log
            task = Task { for await m in subscription { log.withLock { $0.append((Date(), m)) } } }
        }
        func last(_ topic: String) -> MQTTMessage? { log.withLock { $0.last { $0.message.topic == topic }?.message } }
        func all(_ topic: String) -> [MQTTMessage] { log.withLock { $0.filter { $0.message.topic == topic }.map(\.message) } }
        func lastTime(_ topic: String) -> Date? { log.withLock { $0.last { $0.message.topic == topic }?.at } }
    }

    static func client(port: Int) async throws -> MQTTClient {
        var logger = Logger(label: "bridge-test")
        logger.logLevel = .warning
        let client = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "bt-\(UUID().uuidString.prefix(8))"),
                                    logger: logger)
        try await client.connect()
        return client
    }

    static func json(_ m: MQTTMessage?) -> [String: Any]? {
        m.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] }
    }

    /// A Modbus simulator stopped and a service killed: each raises its alert on MQTT
    /// (retained state and event) and reaches the webhook, signed.
    @Test func builtInEventsFromTheRealServicesReachMQTTAndTheWebhook() async throws {
        let simulator = ModbusSimulator()
        try simulator.add(try #require(ProfileLibrary.load()["alfen_eve"]), unitID: 1)
        let modbusPort = try simulator.startTCP()
        var simulatorStopped = false
        defer { if !simulatorStopped { simulator.stop() } }
        let sinkFolder = try temporaryFolder()
        let sink = HTTPSink(folder: sinkFolder)
        try await sink.start()
        let rig = try await Rig(webhookPort: sink.port)
        try rig.sign(rig.licence(from: Date() - 86_400, days: 365)).write(toFile: rig.licenceFile, atomically: true, encoding: .utf8)
        let peer = try await Self.client(port: rig.brokerPort)
        let recorder = Recorder(try await peer.subscribe(rig.topics.all, qos: .atLeastOnce))

        let gateway = try rig.start("phasor-gateway", ["--modbus", "tcp://127.0.0.1:\(modbusPort)", "--device", "alfen:1"])
        let control = try rig.start("phasor-control", ["--demo", "--state-dir", rig.folder.appendingPathComponent("control").path])
        let bridge = try rig.start("phasor-bridge")
        func logs() -> String { ["phasor-bridge", "phasor-gateway"].map { "\($0):\n\(rig.log($0).suffix(3000))" }.joined(separator: "\n") }

        let licensed = await eventually(timeout: .seconds(20)) { Self.json(recorder.last(rig.topics.licence))?["state"] as? String == "valid" }
        #expect(licensed, "\(logs())")
        let online = await eventually(timeout: .seconds(20)) { recorder.last(rig.topics.deviceAvailability("alfen_1"))?.string == "online" }
        #expect(online, "\(logs())")

        // The charger's simulator stops: the gateway reports it offline, the bridge alerts.
        simulator.stop()
        simulatorStopped = true
        let lost = await eventually(timeout: .seconds(30)) {
            Self.json(recorder.last(rig.topics.alert("communication_lost_alfen_1")))?["status"] as? String == "firing"
        }
        #expect(lost, "\(logs())")
        let retained = try #require(recorder.last(rig.topics.alert("communication_lost_alfen_1")))
        #expect(retained.retain || recorder.all(rig.topics.alert("event")).contains { $0.string.contains("communication_lost_alfen_1") })
        let hooked = await eventually(timeout: .seconds(20)) {
            sink.requests.contains { ($0.json?["groupLabels"] as? [String: String])?["alertname"] == "communication_lost" }
        }
        #expect(hooked, "\(logs())")
        if let request = sink.requests.first(where: { ($0.json?["groupLabels"] as? [String: String])?["alertname"] == "communication_lost" }) {
            let signature = try #require(request.headers["x-phasor-signature"])
            let t = try #require(signature.split(separator: ",").first?.dropFirst(2))
            let mac = HMAC<SHA256>.authenticationCode(for: Array("\(t).".utf8) + request.body, using: SymmetricKey(data: Array("hook-secret".utf8)))
            #expect(signature == "t=\(t),sha256=" + mac.map { String(format: "%02x", $0) }.joined())
            let alerts = request.json?["alerts"] as? [[String: Any]]
            #expect((alerts?.first?["labels"] as? [String: String])?["device"] == "alfen_1")
        }

        // Control is killed: its will says offline, the bridge alerts.
        control.signal(SIGKILL)
        let down = await eventually(timeout: .seconds(20)) {
            Self.json(recorder.last(rig.topics.alert("service_control")))?["active"] as? Bool == true
        }
        #expect(down, "\(logs())")
        #expect(await eventually(timeout: .seconds(20)) {
            sink.requests.contains { ($0.json?["groupLabels"] as? [String: String])?["alertname"] == "service" }
        })
        #expect(gateway.poll() == nil, "the gateway keeps running")
        if let result = try await SchemaValidation.validate([try [UInt8](Data(contentsOf: URL(fileURLWithPath: rig.config)))],
                                                            against: "config.schema.json", repositoryRoot: repositoryRoot,
                                                            fileExtension: "yaml") {
            #expect(result.status == 0, "\(result.output)")
        }
        if let result = try await SchemaValidation.validate(
            [retained.payload] + recorder.all(rig.topics.alert("event")).map(\.payload), against: "alert.schema.json",
            repositoryRoot: repositoryRoot) {
            #expect(result.status == 0, "\(result.output)")
        }
        if let result = try await SchemaValidation.validate([try #require(recorder.last(rig.topics.licence)).payload],
                                                            against: "licence.schema.json", repositoryRoot: repositoryRoot) {
            #expect(result.status == 0, "\(result.output)")
        }

        _ = await bridge.terminate()
        _ = await gateway.terminate()
        _ = await control.terminate()
        await sink.stop()
        for topic in [rig.topics.alert("communication_lost_alfen_1"), rig.topics.alert("service_control"), rig.topics.licence] {
            try? peer.publish(MQTTMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true))
        }
        recorder.task.cancel()
        await peer.shutdown()
        try? FileManager.default.removeItem(at: rig.folder)
        try? FileManager.default.removeItem(at: sinkFolder)
    }

    /// A P1 meter on a pty whose line is pulled: the gateway reports it lost, the bridge
    /// raises `communication_lost_grid` (retained state and event).
    @Test func aP1LinePulledRaisesCommunicationLost() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pty = try await SocatPTYPair.start(in: folder)
        var pulled = false
        defer { if !pulled { Task { await pty.stop() } } }
        let site = "bp\(UUID().uuidString.prefix(8))"
        let topics = TopicBuilder(site: site)
        let config = folder.appendingPathComponent("site.yaml").path
        try """
            site: \(site)
            meters:
              - {id: grid, type: p1, source: \(pty.second)}
            alerts:
              route: {group_wait_s: 0, group_interval_s: 1}

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let port = try await SharedBroker.port()
        let peer = try await Self.client(port: port)
        let recorder = Recorder(try await peer.subscribe(topics.all, qos: .atLeastOnce))
        let common = ["--config", config, "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "info"]
        let gateway = try ChildProcess(BuiltExecutables.path("phasor-gateway"), common,
                                       outputFile: folder.appendingPathComponent("gateway.log").path)
        let bridge = try ChildProcess(BuiltExecutables.path("phasor-bridge"), common,
                                      outputFile: folder.appendingPathComponent("bridge.log").path)
        func logs() -> String {
            ["gateway", "bridge"].map { (try? String(contentsOfFile: folder.appendingPathComponent("\($0).log").path, encoding: .utf8)) ?? "" }
                .joined(separator: "\n").suffix(4000).description
        }
        let template = try [UInt8](Data(contentsOf: repositoryRoot.appendingPathComponent(
            "Tests/SiteTests/Fixtures/dsmr5-belgium-fluvius-v171-dsmrparser.txt")))
        let meter = try SimulatedP1Meter(template: template)
        let line = try SerialLineWriter(path: pty.first)
        // A meter sends once a second; until its availability is online.
        var online = false
        for _ in 0..<20 where !online {
            _ = try? line.write(meter.telegram(time: Date(), currents: [3, 2, 1]))
            online = await eventually(timeout: .seconds(1)) { recorder.last(topics.deviceAvailability("grid"))?.string == "online" }
        }
        #expect(online, "\(logs())")

        await pty.stop()  // the line is pulled
        pulled = true
        let lost = await eventually(timeout: .seconds(20)) {
            Self.json(recorder.last(topics.alert("communication_lost_grid")))?["status"] as? String == "firing"
        }
        #expect(lost, "\(logs())")
        // The event goes out beside the alert's state, not before it: awaited, not read at once
        // (a fresh-clone CI run read it before it arrived).
        #expect(await eventually(timeout: .seconds(10)) {
            recorder.all(topics.alert("event")).contains { Self.json($0)?["id"] as? String == "communication_lost_grid" }
        })

        _ = await bridge.terminate()
        _ = await gateway.terminate()
        try? peer.publish(MQTTMessage(topic: topics.alert("communication_lost_grid"), payload: [], qos: .atLeastOnce, retain: true))
        recorder.task.cancel()
        await peer.shutdown()
    }

    /// The bridge restarts after a device came back while it was down: the retained
    /// "firing" state it left is resolved, with the same fingerprint and start.
    @Test func aRestartedBridgeResolvesWhatEndedWhileItWasDown() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = "bq\(UUID().uuidString.prefix(8))"
        let topics = TopicBuilder(site: site)
        let port = try await SharedBroker.port()
        let peer = try await Self.client(port: port)
        let recorder = Recorder(try await peer.subscribe(topics.all, qos: .atLeastOnce))
        let arguments = ["--site", site, "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "info"]
        func bridge() throws -> ChildProcess {
            try ChildProcess(BuiltExecutables.path("phasor-bridge"), arguments, outputFile: folder.appendingPathComponent("bridge.log").path)
        }
        let availability = topics.deviceAvailability("meter9")
        let state = topics.alert("communication_lost_meter9")
        var first = try bridge()
        try await Task.sleep(for: .milliseconds(500))
        try peer.publish(MQTTMessage(topic: availability, string: "offline", qos: .atLeastOnce, retain: true))
        #expect(await eventually(timeout: .seconds(15)) { Self.json(recorder.last(state))?["status"] as? String == "firing" })
        let firing = try #require(Self.json(recorder.last(state)))
        _ = await first.terminate()

        try peer.publish(MQTTMessage(topic: availability, string: "online", qos: .atLeastOnce, retain: true))
        first = try bridge()
        let resolved = await eventually(timeout: .seconds(15)) { Self.json(recorder.last(state))?["status"] as? String == "resolved" }
        #expect(resolved, "\((try? String(contentsOfFile: folder.appendingPathComponent("bridge.log").path, encoding: .utf8)) ?? "")")
        let after = Self.json(recorder.last(state))
        #expect(after?["fingerprint"] as? String == firing["fingerprint"] as? String)
        #expect(after?["starts_at"] as? String == firing["starts_at"] as? String)
        _ = await first.terminate()
        for topic in [availability, state] { try? peer.publish(MQTTMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true)) }
        recorder.task.cancel()
        await peer.shutdown()
    }

    /// Every licence case with its outcome, judged by the real bridge; the gateway and
    /// control run through all of them without noticing.
    @Test func everyLicenceCaseIsJudgedAndControlAndTheGatewayKeepRunning() async throws {
        let simulator = ModbusSimulator()
        try simulator.add(try #require(ProfileLibrary.load()["alfen_eve"]), unitID: 1)
        let modbusPort = try simulator.startTCP()
        defer { simulator.stop() }
        let rig = try await Rig(webhookPort: nil)
        let peer = try await Self.client(port: rig.brokerPort)
        let recorder = Recorder(try await peer.subscribe(rig.topics.all, qos: .atLeastOnce))
        let gateway = try rig.start("phasor-gateway", ["--modbus", "tcp://127.0.0.1:\(modbusPort)", "--device", "alfen:1"])
        let control = try rig.start("phasor-control", ["--demo", "--state-dir", rig.folder.appendingPathComponent("control").path])
        #expect(await eventually(timeout: .seconds(20)) { recorder.last(rig.topics.controlState) != nil })

        let now = Date()
        let day: TimeInterval = 86_400
        let stranger = Curve25519.Signing.PrivateKey()
        let otherSerial = MachineSerial.serial(machineID: "00000000000000000000000000000000")
        struct Case {
            var name: String
            var text: String
            var mark: Date?
            var state: String
            var reason: String?
            var clockBehind = false
        }
        let valid = try rig.sign(rig.licence(from: now - day, days: 365))
        let cases = [
            Case(name: "valid", text: valid, state: "valid"),
            Case(name: "forged signature", text: try rig.sign(rig.licence(from: now - day, days: 365), key: stranger),
                 state: "refused", reason: "bad_signature"),
            Case(name: "altered field", text: valid.replacingOccurrences(of: "max_devices=10", with: "max_devices=99"),
                 state: "refused", reason: "bad_signature"),
            Case(name: "wrong key id", text: try rig.sign(rig.licence(from: now - day, days: 365), keyID: "test-2"),
                 state: "refused", reason: "unknown_key"),
            Case(name: "expired within grace", text: try rig.sign(rig.licence(from: now - 370 * day, days: 365)), state: "grace"),
            Case(name: "expired after grace", text: try rig.sign(rig.licence(from: now - 400 * day, days: 365)),
                 state: "refused", reason: "expired"),
            Case(name: "other serial", text: try rig.sign(rig.licence(serials: [otherSerial], from: now - day, days: 365)),
                 state: "refused", reason: "other_machine"),
            // The bridge had seen a year later than now: the clock was set back by a year.
            Case(name: "clock set back a year", text: try rig.sign(rig.licence(from: now - day, days: 200)),
                 mark: now + 365 * day, state: "refused", reason: "expired", clockBehind: true),
        ]
        for c in cases {
            try c.text.write(toFile: rig.licenceFile, atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: rig.stateDir)
            if let mark = c.mark { try TrustedTime(mark: mark).save(to: rig.stateDir + "/trusted-time") }
            let before = recorder.all(rig.topics.licence).count
            let bridge = try rig.start("phasor-bridge")
            let judged = await eventually(timeout: .seconds(20)) { recorder.all(rig.topics.licence).count > before }
            let status = Self.json(recorder.last(rig.topics.licence))
            #expect(judged, "\(c.name): \(rig.log("phasor-bridge").suffix(2000))")
            #expect(status?["state"] as? String == c.state, "\(c.name): \(status ?? [:])")
            #expect(status?["reason"] as? String == c.reason, "\(c.name): \(status ?? [:])")
            #expect(status?["clock_behind"] as? Bool == c.clockBehind, "\(c.name)")
            if c.state == "refused" { #expect(status?["tier"] as? String == "view", "\(c.name): the free tier") }
            // Control and the gateway are unaffected, whatever the licence says.
            let stateCount = recorder.all(rig.topics.controlState).count
            #expect(await eventually(timeout: .seconds(10)) { recorder.all(rig.topics.controlState).count > stateCount + 1 },
                    "\(c.name): control keeps deciding")
            #expect(recorder.last(rig.topics.deviceAvailability("alfen_1"))?.string == "online", "\(c.name)")
            #expect(gateway.poll() == nil && control.poll() == nil, "\(c.name)")
            _ = await bridge.terminate()
        }
        let beats = recorder.all(rig.topics.heartbeat(.gateway)).count
        #expect(await eventually(timeout: .seconds(5)) { recorder.all(rig.topics.heartbeat(.gateway)).count > beats })
        #expect(!rig.log("phasor-control").contains("licen"), "control never looks at the licence")
        #expect(!rig.log("phasor-gateway").contains("licen"), "nor does the gateway")

        _ = await gateway.terminate()
        _ = await control.terminate()
        try? peer.publish(MQTTMessage(topic: rig.topics.licence, payload: [], qos: .atLeastOnce, retain: true))
        recorder.task.cancel()
        await peer.shutdown()
        try? FileManager.default.removeItem(at: rig.folder)
    }
}
