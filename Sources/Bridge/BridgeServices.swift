import BridgeCloud
import BridgeCore
import BridgeOutbox
import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorService
import ServiceLifecycle

/// Builds the bridge's pieces from its settings: the service watch always; with a
/// `bridge.cloud` section also the outbox, its intake and the cloud link (with the
/// command relay).
public enum BridgeServices {
    public static func make(session: MQTTSessionService, logger: Logger) throws -> [any Service] {
        let settings = session.settings
        // The service watch, alerts and licence (issue 13); then the outbox and the cloud link.
        var services: [any Service] = try AlertServices.make(session: session, logger: logger)
        guard let bridge = settings.site.bridge, let cloud = bridge.cloud else { return services }
        let outboxSettings = OutboxSettings.from(bridge.outbox)
        let outbox: Outbox
        do { outbox = try Outbox(settings: outboxSettings) } catch {
            throw ConfigError(file: "outbox", line: nil, field: "bridge.outbox.path", message: "cannot open '\(outboxSettings.path)': \(error)")
        }
        logger.info("outbox open", metadata: [
            "path": "\(outboxSettings.path)", "max_bytes": "\(outboxSettings.maxBytes)", "durability": "\(outboxSettings.durability.rawValue)",
            "waiting": "\(outbox.depth.messages)",
        ])
        let classifier = try StreamClassifier(root: settings.topics.root, rules: bridge.forward ?? ForwardRule.defaults)
        var login: (username: String, password: String?)?
        if let user = bridge.outbox?.username {
            login = (user, try bridge.outbox?.passwordFile.map { try readPassword($0, field: "bridge.outbox.password_file") })
        }
        let intake = try OutboxIntakeService(siteMQTT: settings.mqtt, login: login, classifier: classifier,
                                             aggregates: bridge.aggregate ?? [], outbox: outbox,
                                             alerts: session.client, topics: settings.topics, logger: logger)
        let link = try cloudConfiguration(cloud, site: settings.site.site)
        let relay = CommandRelay(policy: CommandPolicy(section: bridge.commands), outbox: outbox, local: session.client,
                                 localRoot: settings.topics.root, topics: link.topics, logger: logger)
        services += [intake, CloudLinkService(configuration: link, outbox: outbox, commands: relay, logger: logger)]
        return services
    }

    /// The first line of a password file.
    static func readPassword(_ path: String, field: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(file: "site file", line: nil, field: field, message: "cannot read '\(path)'")
        }
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }

    /// The cloud link's MQTT settings from the site file's `bridge.cloud`.
    public static func cloudConfiguration(_ cloud: CloudSection, site: String) throws -> CloudLinkConfiguration {
        let url = try MQTTBrokerURL(parsing: cloud.url)
        let password = try cloud.passwordFile.map { try readPassword($0, field: "bridge.cloud.password_file") }
        let insecure = cloud.insecure ?? false
        let tls: MQTTTLSConfiguration? =
            url.usesTLS || cloud.caFile != nil || insecure
            ? MQTTTLSConfiguration(caFile: cloud.caFile, certificateFile: cloud.certFile, privateKeyFile: cloud.keyFile,
                                   insecureSkipVerification: insecure)
            : nil
        let topics = CloudTopics(prefix: cloud.prefix ?? "phasor", site: site)
        let status = "\(topics.root)/status"
        let proto = cloud.protocol ?? "auto"
        var mqtt = MQTTConfiguration(
            host: url.host, port: url.port, clientID: cloud.clientId ?? "phasor-bridge-\(site)",
            protocolVersion: proto == "3.1.1" ? .v311 : .v5, username: cloud.username, password: password, tls: tls,
            keepAlive: cloud.keepAlive ?? 30, cleanSession: false,
            sessionExpiryInterval: UInt32(clamping: cloud.sessionExpiryS ?? 86_400),
            will: MQTTMessage(topic: status, string: "offline", qos: .atLeastOnce, retain: true),
            birth: MQTTMessage(topic: status, string: "online", qos: .atLeastOnce, retain: true),
            offlineQueue: MQTTOfflineQueuePolicy(capacity: 0, whenFull: .rejectNew), maxInflight: cloud.maxInflight ?? 100)
        mqtt.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(500), maximumDelay: .seconds(60))
        return CloudLinkConfiguration(mqtt: mqtt, fallbackTo311: proto == "auto", topics: topics,
                                      maxInflight: cloud.maxInflight ?? 100, backlogRate: cloud.backlogRate ?? 2000,
                                      ackTimeout: TimeInterval(cloud.ackTimeoutS ?? 60))
    }
}
