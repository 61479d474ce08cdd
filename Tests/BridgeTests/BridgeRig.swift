import Foundation
import Logging
import MQTT
import PhasorTesting
import Testing

/// Two real mosquitto brokers (the site's and the "cloud") and the real phasor-bridge
/// executable between them, with a persistent subscriber on the cloud that records
/// every envelope.
final class BridgeRig: @unchecked Sendable {
    let site: String
    let local: MosquittoBroker
    let cloud: MosquittoBroker
    let folder: URL
    let outboxPath: String
    var bridge: ChildProcess?
    /// The site file's `bridge:` section beyond `cloud.url` and `outbox.path`.
    /// `cloudSection` replaces the default `url:` line (TLS tests give their own).
    func writeSite(cloudSection: String? = nil, cloud extraCloud: String = "", extra: String = "") throws {
        let yaml = """
            site: \(site)
            broker:
              url: mqtt://127.0.0.1:\(local.port)
            bridge:
              cloud:
            \(cloudSection ?? "    url: mqtt://127.0.0.1:\(cloud.port)\n")\(extraCloud)  outbox:
                path: \(outboxPath)
            \(extra)
            """
        try yaml.write(toFile: siteFile, atomically: true, encoding: .utf8)
    }
    let lock = NSLock()
    var received: [Envelope] = []
    var cloudClient: MQTTClient?
    var siteFile: String { folder.appendingPathComponent("site.yaml").path }
    var log: String { folder.appendingPathComponent("bridge.log").path }

    struct Envelope: @unchecked Sendable {
        var stream: String
        var seq: Int64
        var hist: Bool
        var histProperty: Bool
        var payload: [String: Any]?
        var text: String?
        var raw: [UInt8]
        var topic: String
        /// MQTT 5 user properties the message carried (none when the bridge spoke 3.1.1).
        var userProperties: Int = 0
    }

    init(site: String = "b\(UUID().uuidString.prefix(6))", cloud: MosquittoBroker? = nil, cloudYAML: String? = nil,
         extraYAML: String = "") async throws {
        self.site = site
        local = try await MosquittoBroker.start()
        if let cloud { self.cloud = cloud } else { self.cloud = try await MosquittoBroker.start() }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-bridge-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        outboxPath = folder.appendingPathComponent("outbox.sqlite").path
        try writeSite(cloudSection: cloudYAML, extra: extraYAML)
    }

    static func logger() -> Logger {
        var l = Logger(label: "bridge-test")
        l.logLevel = .critical
        return l
    }

    func startBridge() throws {
        let p = try ChildProcess(BuiltExecutables.path("phasor-bridge"), ["--config", siteFile, "--log-level", "info"], outputFile: log)
        lock.withLock { bridge = p }
    }

    func killBridge() async {
        guard let p = lock.withLock({ bridge }) else { return }
        p.signal(SIGKILL)
        _ = await p.waitForExit()
        lock.withLock { bridge = nil }
    }

    func stopBridge() async {
        guard let p = lock.withLock({ bridge }) else { return }
        _ = await p.terminate()
        lock.withLock { bridge = nil }
    }

    /// A persistent subscriber on the cloud broker recording every envelope of this site.
    func subscribeCloud(tls: MQTTTLSConfiguration? = nil) async throws {
        let c = try MQTTClient(
            configuration: MQTTConfiguration(
                host: "127.0.0.1", port: cloud.port, clientID: "cloud-consumer-\(site)", tls: tls, cleanSession: false,
                sessionExpiryInterval: 3600,
                reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))),
            logger: Self.logger())
        let sub = try await c.subscribe("phasor/\(site)/v1/up/#", qos: .atLeastOnce)
        try await c.connect()
        lock.withLock { cloudClient = c }
        Task {
            for await m in sub {
                let object = try? JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any]
                let e = Envelope(
                    stream: object?["stream"] as? String ?? "?", seq: (object?["seq"] as? NSNumber)?.int64Value ?? -1,
                    hist: object?["hist"] as? Bool ?? false,
                    histProperty: m.properties.userProperties.contains(MQTTUserProperty("hist", "1")),
                    payload: object?["payload"] as? [String: Any], text: object?["payload"] as? String, raw: m.payload, topic: m.topic,
                    userProperties: m.properties.userProperties.count)
                self.lock.withLock { self.received.append(e) }
            }
        }
    }

    var envelopes: [Envelope] { lock.withLock { received } }

    func localClient() async throws -> MQTTClient {
        let c = try MQTTClient(
            configuration: MQTTConfiguration(
                host: "127.0.0.1", port: local.port, clientID: "site-\(UUID().uuidString.prefix(8))",
                reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))),
            logger: Self.logger())
        try await c.connect()
        return c
    }

    /// Waits until the bridge's intake has its persistent session on the site broker
    /// (it logs the subscription), so what is published next is queued for it.
    func waitForIntake(occurrence: Int = 1) async -> Bool {
        await eventually(timeout: .seconds(20)) {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.components(separatedBy: "outbox intake subscribed").count - 1 >= occurrence
        }
    }

    /// The cloud subscriber, the bridge and its intake up; returns a client on the site's broker.
    func startAll() async throws -> MQTTClient {
        try await subscribeCloud()
        try startBridge()
        #expect(await waitForIntake())
        return try await localClient()
    }

    /// Meter states `meterPayload(i)` on the site's `meter/m1/state`, each acknowledged by the broker.
    func publishMeterStates(_ counters: ClosedRange<Int>, with client: MQTTClient) async throws {
        for i in counters {
            try await client.publishAndWait(MQTTMessage(topic: "phasor/\(site)/meter/m1/state", payload: meterPayload(i), qos: .atLeastOnce))
        }
    }

    var bridgeLog: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func shutdown() async {
        await stopBridge()
        await lock.withLock { cloudClient }?.shutdown()
        await local.stop()
        await cloud.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A meter-state-like payload with a counter, as the gateway publishes (`time` first).
func meterPayload(_ n: Int) -> [UInt8] {
    Array(#"{"device":"m1","time":"\#(ISO8601Text.format(Date()))","n":\#(n),"power_import":\#(1000 + n)}"#.utf8)
}
