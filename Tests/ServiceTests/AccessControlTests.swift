import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorTesting
import Testing

/// The broker as deploy/ installs it (no anonymous clients, one user per service,
/// deploy/mosquitto/phasor.acl): only the gateway publishes telemetry, only
/// control publishes setpoints, operators send commands and read everything.
@Suite struct AccessControlTests {
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
        defer { Task { await secured.broker.stop() } }
        let anonymous = try client(secured, user: nil)
        await #expect(throws: MQTTError.self) { try await anonymous.connect(timeout: .seconds(5)) }
        await anonymous.shutdown()
    }

    /// Each forbidden publish is refused (PUBACK reason 135) and followed by an
    /// allowed marker from the same client: MQTT keeps one client's order, so seeing
    /// the marker without the forbidden message proves the broker dropped it.
    @Test func eachUserPublishesOnlyItsOwnTopics() async throws {
        let secured = try await SecuredBroker.start(aclFile: Self.aclFile)
        defer { Task { await secured.broker.stop() } }
        let root = "phasor/acl"
        let op = try client(secured, user: "operator")
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
            ("operator", "\(root)/chargepoint/cp1/setpoint", "\(root)/control/slider/set"),
            ("operator", "\(root)/meter/grid/state", "\(root)/control/chargepoint/cp1/mode/set"),
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

    @Test func servicesRunWithTheirOwnCredentials() async throws {
        let secured = try await SecuredBroker.start(aclFile: Self.aclFile)
        defer { Task { await secured.broker.stop() } }
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
