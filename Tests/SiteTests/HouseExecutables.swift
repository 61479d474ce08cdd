import DeviceSimulators
import Foundation
import Logging
import Modbus
import MQTT
import PhasorCore
import PhasorTesting

/// The real `phasor-gateway` and `phasor-control` on the shared broker, reading one site
/// file, and a client that records every message of the site: the house end-to-end tests.
struct HouseExecutables {
    let folder: URL
    let topics: TopicBuilder
    let client: MQTTClient
    let messages: SiteMessages
    let gateway: ChildProcess
    let control: ChildProcess

    /// Writes `yaml` (its `site:` line first) as the site file in a fresh folder and starts both.
    static func start(site name: String, yaml: String) async throws -> HouseExecutables {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-\(name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = folder.appendingPathComponent("site.yaml").path
        try ("site: \(name)\n" + yaml).write(toFile: config, atomically: true, encoding: .utf8)
        let brokerPort = try await SharedBroker.port()
        var logger = Logger(label: "house-test")
        logger.logLevel = .warning
        let client = try MQTTClient(
            configuration: MQTTConfiguration(host: "127.0.0.1", port: brokerPort, clientID: "house-\(name)"), logger: logger)
        try await client.connect()
        let topics = TopicBuilder(site: name)
        let messages = SiteMessages(try await client.subscribe(topics.all, qos: .atLeastOnce), topics: topics)
        let common = ["--config", config, "--broker", "mqtt://127.0.0.1:\(brokerPort)", "--log-level", "info"]
        let gateway = try ChildProcess(BuiltExecutables.path("phasor-gateway"), common,
                                       outputFile: folder.appendingPathComponent("gateway.log").path)
        let control = try ChildProcess(BuiltExecutables.path("phasor-control"),
                                       common + ["--state-dir", folder.appendingPathComponent("state").path],
                                       outputFile: folder.appendingPathComponent("control.log").path)
        return HouseExecutables(folder: folder, topics: topics, client: client, messages: messages, gateway: gateway,
                                control: control)
    }

    /// The last lines of both logs, for a failure's message.
    func logs() -> String {
        ["gateway", "control"].map { name in
            let text = (try? String(contentsOf: folder.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
            return "\n--- \(name) ---\n" + text.split(separator: "\n").suffix(20).joined(separator: "\n")
        }.joined()
    }

    /// The gateway's answers on `inverter/<id>/applied`, decoded.
    func inverterApplied(_ id: String) -> [[String: Any]] {
        messages.on(topics.inverterApplied(id)).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any]
        }
    }

    /// Runs `body`, then stops both executables and the meter's pty, whether it threw or not.
    func stopping(_ pty: SocatPTYPair, after body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await stop()
            await pty.stop()
            throw error
        }
        await stop()
        await pty.stop()
    }

    func stop() async {
        _ = await control.terminate()
        _ = await gateway.terminate()
        await client.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }
}
