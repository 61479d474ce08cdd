import ArgumentParser
import Foundation
import Logging
import MQTT
import PhasorCore

/// The command-line options every Phasor service takes. Flags override the site
/// file, so a quick start needs no file at all:
/// `phasor-gateway --broker mqtt://127.0.0.1:1883 --site home`.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Site file (YAML). Without it, flags say what to do (--site and the service's own).")
    public var config: String?

    @Option(name: .long, help: "Broker URL: mqtt://host:1883 or mqtts://host:8883.")
    public var broker: String?

    @Option(name: .long, help: "Site id, the second level of every topic.")
    public var site: String?

    @Option(name: .long, help: "Topic prefix (default: phasor).")
    public var prefix: String?

    @Option(name: .long, help: "MQTT user name.")
    public var username: String?

    @Option(name: .long, help: "File holding the MQTT password (first line).")
    public var passwordFile: String?

    @Option(name: .long, help: "CA certificate file to verify the broker (TLS).")
    public var caFile: String?

    @Option(name: .long, help: "Client certificate file (TLS).")
    public var certFile: String?

    @Option(name: .long, help: "Client private key file (TLS).")
    public var keyFile: String?

    @Flag(name: .long, help: "Skip TLS verification. For tests only.")
    public var insecure: Bool = false

    @Option(name: .long, help: "MQTT protocol: 5 or 3.1.1.")
    public var mqttVersion: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String?

    @Option(name: .long, help: "Log format: text (key=value) or json (one object per line).")
    public var logFormat: String?

    @Option(name: .long, help: "Serve Prometheus metrics on this port (0: any free port); overrides the site file's metrics: section.")
    public var metricsPort: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Seconds between heartbeats on …/status/<service>/heartbeat (default 5); others count the service gone after three missed beats.",
        visibility: .hidden))
    public var heartbeatInterval: Double?

    public init() {}

    /// Loads the site file, runs the service's checks on it, and applies the flags on
    /// top. Without a site file the site id must come from `--site`, unless `demo`
    /// (the demo site's id is `demo`). Every problem is a `ConfigError` (a site file's
    /// names file, line and field; a flag's names the flag).
    public func resolve(service: ServiceName, checks: [any SiteCheck] = [], demo: Bool = false) throws(ConfigError) -> ServiceSettings {
        var warnings: [ConfigError] = []
        var site: SiteConfiguration
        if let config {
            let checked = try SiteConfiguration.load(from: config, checks: checks)
            site = checked.site
            warnings = checked.warnings
        } else if demo || self.site != nil {
            site = .demo
        } else {
            throw Self.flagError("--site", "no site id: give --site ID or a site file with --config site.yaml")
        }
        if let s = self.site {
            if let problem = CommonSiteCheck.topicLevelProblem(s) { throw Self.flagError("--site", problem) }
            site.site = s
        }
        if let p = self.prefix, p.split(separator: "/", omittingEmptySubsequences: false)
            .contains(where: { CommonSiteCheck.topicLevelProblem(String($0)) != nil })
        {
            throw Self.flagError("--prefix", "'\(p)': topic levels of letters, digits, '-' and '_', separated by '/'")
        }
        let prefix = self.prefix ?? site.prefix ?? "phasor"
        let b = site.broker
        let url: MQTTBrokerURL
        do { url = try MQTTBrokerURL(parsing: broker ?? b?.url ?? "mqtt://127.0.0.1:1883") } catch {
            throw Self.flagError("--broker", CommonSiteCheck.brokerURLProblem(error))
        }
        var password = b?.password
        if let path = passwordFile ?? b?.passwordFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw Self.flagError("--password-file", "cannot read '\(path)'")
            }
            password = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        let ca = caFile ?? b?.caFile
        let insecure = self.insecure || (b?.insecure ?? false)
        let tls: MQTTTLSConfiguration? =
            url.usesTLS || ca != nil || insecure
            ? MQTTTLSConfiguration(caFile: ca, certificateFile: certFile ?? b?.certFile, privateKeyFile: keyFile ?? b?.keyFile,
                                   insecureSkipVerification: insecure)
            : nil
        let version: MQTTProtocolVersion
        switch mqttVersion ?? b?.protocol?.rawValue ?? "5" {
        case "5", "5.0": version = .v5
        case "3.1.1", "311", "4": version = .v311
        case let other: throw Self.flagError("--mqtt-version", "'\(other)': use 5 or 3.1.1")
        }
        let levelName = logLevel ?? site.logging?.level?.rawValue ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw Self.flagError("--log-level", "'\(levelName)': use one of \(LogLevelName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let topics = TopicBuilder(prefix: prefix, site: site.site)
        let status = topics.status(service)
        let mqtt = MQTTConfiguration(
            host: url.host, port: url.port,
            clientID: b?.clientId.map { "\($0)-\(service.rawValue)" } ?? "phasor-\(site.site)-\(service.rawValue)",
            protocolVersion: version, username: username ?? b?.username, password: password, tls: tls,
            keepAlive: b?.keepAlive ?? 30, cleanSession: true,
            will: MQTTMessage(topic: status, string: "offline", qos: .atLeastOnce, retain: true),
            birth: MQTTMessage(topic: status, string: "online", qos: .atLeastOnce, retain: true),
            offlineQueue: MQTTOfflineQueuePolicy(
                capacity: b?.offlineQueue?.capacity ?? 10_000, whenFull: b?.offlineQueue?.whenFull ?? .dropOldest))
        let formatName = logFormat ?? site.logging?.format?.rawValue ?? LogFormat.text.rawValue
        guard let format = LogFormat(rawValue: formatName) else {
            throw Self.flagError("--log-format", "'\(formatName)': use text or json")
        }
        var settings = ServiceSettings(service: service, site: site, topics: topics, mqtt: mqtt, logLevel: level, warnings: warnings)
        settings.logFormat = format
        return settings
    }

    /// A command-line problem, in the site file's one-line form: `command line: --site: …`.
    static func flagError(_ flag: String, _ message: String) -> ConfigError {
        ConfigError(file: "command line", line: nil, field: flag, message: message)
    }
}

/// Everything a service needs to start, resolved from file and flags.
public struct ServiceSettings: Sendable {
    public var service: ServiceName
    public var site: SiteConfiguration
    public var topics: TopicBuilder
    public var mqtt: MQTTConfiguration
    public var logLevel: Logger.Level
    public var logFormat: LogFormat = .text
    /// What the site file's checks found that does not stop the service (logged at start).
    public var warnings: [ConfigError] = []
}
