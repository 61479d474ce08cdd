import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// The broker as deploy/ installs it (no anonymous clients, one user per service,
/// deploy/mosquitto/phasor.acl): only the gateway publishes telemetry, only
/// control publishes setpoints, operators send commands and read everything.
@Suite(.endToEnd) struct AccessControlTests {
    static let aclFile = repositoryRoot.appendingPathComponent("deploy/mosquitto/phasor.acl").path

    func client(_ secured: SecuredBroker, user: String?) throws -> MQTTClient {
        var logger = Logger(label: "acl-test")
        logger.logLevel = .critical
        return try MQTTClient(
            configuration: MQTTConfiguration(
                host: "127.0.0.1", port: secured.broker.port, clientID: "acl-\(user ?? "anon")-\(UUID().uuidString.prefix(6))",
                username: user, password: user.flatMap { secured.password($0) }),
            logger: logger)
    }

    @Test func anonymousClientsAreRefused() async throws {
        let secured = try await SecuredBroker.start(aclFile: Self.aclFile)
        defer { Task { await secured.stop() } }
        let anonymous = try client(secured, user: nil)
        await #expect(throws: MQTTError.self) { try await anonymous.connect(timeout: .seconds(5)) }
        await anonymous.shutdown()
    }

    /// Each forbidden publish is refused (PUBACK reason 135) and followed by an
    /// allowed marker from the same client: MQTT keeps one client's order, so seeing
    /// the marker without the forbidden message proves the broker dropped it.
    @Test func eachUserPublishesOnlyItsOwnTopics() async throws {
        let secured = try await SecuredBroker.start(aclFile: Self.aclFile)
        defer { Task { await secured.stop() } }
        let root = "phasor/acl"
        // A read-only user watches: with client ids bound to usernames a second
        // `operator` connection (a case below) would replace this one.
        let op = try client(secured, user: "viewer")
        try await op.connect()
        let everything = try await op.subscribe("\(root)/#", qos: .atLeastOnce)
        let seen = Locked<[String]>([])
        let collector = Task { for await m in everything { seen.withLock { $0.append(m.topic) } } }
        defer { collector.cancel() }

        let cases: [(user: String, forbidden: String, allowed: String)] = [
            ("gateway", "\(root)/chargepoint/cp1/setpoint", "\(root)/meter/grid/state"),
            ("gateway", "\(root)/control/slider/set", "\(root)/chargepoint/cp1/applied"),
            ("control", "\(root)/meter/grid/state", "\(root)/chargepoint/cp1/setpoint"),
            ("control", "\(root)/status/gateway", "\(root)/control/state"),
            ("bridge", "\(root)/chargepoint/cp1/setpoint", "\(root)/alert/service_gateway"),
            // The bridge relays the cloud's allowlisted commands; it never writes telemetry.
            ("bridge", "\(root)/meter/grid/state", "\(root)/control/slider/set"),
            ("operator", "\(root)/chargepoint/cp1/setpoint", "\(root)/control/slider/set"),
            ("operator", "\(root)/meter/grid/state", "\(root)/control/chargepoint/cp1/mode/set"),
            ("operator", "\(root)/status/control/heartbeat", "\(root)/control/slider/set"),
            ("gateway", "\(root)/status/control/heartbeat", "\(root)/status/gateway/heartbeat"),
            // Issue 11: control steers the inverter and battery, the gateway answers; relays are answered too.
            ("gateway", "\(root)/inverter/inv1/setpoint", "\(root)/inverter/inv1/applied"),
            ("control", "\(root)/inverter/inv1/applied", "\(root)/inverter/inv1/setpoint"),
            ("operator", "\(root)/inverter/inv1/setpoint", "\(root)/relay/r1/command"),
            ("control", "\(root)/relay/r1/applied", "\(root)/relay/r1/command"),
            ("bridge", "\(root)/relay/r1/applied", "\(root)/relay/r1/command"),
            ("operator", "\(root)/relay/r1/applied", "\(root)/control/slider/set"),
            ("gateway", "\(root)/relay/r1/command", "\(root)/relay/r1/applied"),
        ]
        for c in cases {
            let publisher = try client(secured, user: c.user)
            try await publisher.connect()
            // MQTT 5: the broker answers the forbidden publish with reason 135 (not authorized).
            await #expect(throws: MQTTError.self, "\(c.user) → \(c.forbidden)") {
                try await publisher.publishAndWait(MQTTMessage(topic: c.forbidden, string: "{}", qos: .atLeastOnce))
            }
            try await publisher.publishAndWait(MQTTMessage(topic: c.allowed, string: "{}", qos: .atLeastOnce))
            let deadline = ContinuousClock.now + .seconds(10)
            while !seen.withLock({ $0.contains(c.allowed) }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let topics = seen.withLock { t in defer { t.removeAll() }; return t }
            #expect(topics.contains(c.allowed), "\(c.user) may publish \(c.allowed)")
            #expect(!topics.contains(c.forbidden), "\(c.user) must not publish \(c.forbidden)")
            await publisher.shutdown()
        }
        await op.shutdown()
    }

    /// Issue 9, defect 4: an operator who connects with control's client id
    /// (`phasor-<site>-control`, predictable) used to kick control off the broker
    /// (its will `offline`, the gateway's fallback). phasor.conf binds client ids
    /// to usernames: control keeps its connection, and so does the operator.
    @Test func nobodyCanTakeOverAServiceConnection() async throws {
        let secured = try await SecuredBroker.start(aclFile: Self.aclFile)
        defer { Task { await secured.broker.stop() } }
        let site = uniqueSite()
        let root = "phasor/\(site)"
        let viewer = try client(secured, user: "viewer")
        try await viewer.connect()
        let status = try await viewer.subscribe("\(root)/status/control", qos: .atLeastOnce)
        let heard = Locked<[String]>([])
        let collector = Task { for await m in status { heard.withLock { $0.append(m.string) } } }
        defer { collector.cancel() }
        let control = try ChildProcess(executable("phasor-control"), [
            "--broker", secured.broker.url, "--site", site, "--log-level", "warning",
            "--username", "control", "--password-file", try #require(secured.passwordFiles["control"]), "--demo",
        ])
        #expect(await eventually(timeout: .seconds(20)) { heard.withLock { $0.contains("online") } })
        var logger = Logger(label: "impostor")
        logger.logLevel = .critical
        for id in ["phasor-\(site)-control", "control"] {
            let impostor = try MQTTClient(
                configuration: MQTTConfiguration(host: "127.0.0.1", port: secured.broker.port, clientID: id,
                                                 username: "operator", password: secured.password("operator")),
                logger: logger)
            try await impostor.connect()
            // Proof that the broker handled the connection and what followed: a command
            // from the impostor that control (still connected) answers on its state topic.
            let states = try await viewer.subscribe("\(root)/control/state", qos: .atLeastOnce)
            let slider = Int.random(in: 3...9)
            try await impostor.publishAndWait(MQTTMessage(topic: "\(root)/control/slider/set", string: "\(slider)", qos: .atLeastOnce))
            let answered = await states.next(timeout: .seconds(10)) { $0.string.contains("\"slider_kw\":\(slider)") }
            #expect(answered != nil, "control did not take the command after a connection with id \(id)")
            states.cancel()
            #expect(impostor.isConnected, "the operator's own connection was dropped")
            await impostor.shutdown()
        }
        #expect(!heard.withLock { $0.contains("offline") }, "control was kicked off: \(heard.withLock { $0 })")
        _ = await control.terminate()
        await viewer.shutdown()
    }

    @Test func servicesRunWithTheirOwnCredentials() async throws {
        let secured = try await SecuredBroker.start(aclFile: Self.aclFile)
        defer { Task { await secured.stop() } }
        let site = uniqueSite()
        let op = try client(secured, user: "operator")
        try await op.connect()
        let status = try await op.subscribe("phasor/\(site)/status/+", qos: .atLeastOnce)
        var children: [ChildProcess] = []
        for service in ["gateway", "control", "bridge"] {
            children.append(try ChildProcess(executable("phasor-\(service)"), [
                "--broker", secured.broker.url, "--site", site, "--log-level", "warning",
                "--username", service, "--password-file", try #require(secured.passwordFiles[service]),
            ] + (service == "bridge" ? [] : ["--demo"])))
        }
        var online: Set<String> = []
        while online.count < 3, let m = await next(status, where: { $0.string == "online" }) {
            online.insert(String(m.topic.split(separator: "/").last ?? ""))
        }
        #expect(online == ["gateway", "control", "bridge"])
        for child in children { _ = await child.terminate() }
        await op.shutdown()
    }
}
