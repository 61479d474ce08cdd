import Foundation
import MQTT
import PhasorCore

/// One service's checks of the site file, beyond its shape (which decoding checks):
/// values that depend on each other, ids shared between sections, resources on the
/// machine. Each service owns the sections it reads and brings its own check
/// (`GatewaySiteCheck`, `ControlSiteCheck`); `phasor config check` runs them all,
/// each service runs `CommonSiteCheck` and its own at start, so the tool refuses
/// exactly what the services refuse.
///
/// A check throws the first error (a `ConfigError`; its line is filled in from its
/// field when it has none) and returns warnings: things that do not stop a
/// service but that an installer should see (a busy port the service will retry).
public protocol SiteCheck: Sendable {
    func check(_ site: SiteConfiguration, in document: ConfigDocument) throws -> [ConfigError]
}

/// What every service reads: site id, topic prefix, broker, password file.
public struct CommonSiteCheck: SiteCheck {
    public init() {}

    public func check(_ site: SiteConfiguration, in document: ConfigDocument) throws -> [ConfigError] {
        if let problem = Self.topicLevelProblem(site.site) { throw document.error("site", problem) }
        if let prefix = site.prefix {
            let levels = prefix.split(separator: "/", omittingEmptySubsequences: false)
            if levels.contains(where: { Self.topicLevelProblem(String($0)) != nil }) {
                throw document.error("prefix", "'\(prefix)': topic levels of letters, digits, '-' and '_', separated by '/'")
            }
        }
        if let url = site.broker?.url {
            do { _ = try MQTTBrokerURL(parsing: url) } catch {
                throw document.error("broker.url", Self.brokerURLProblem(error))
            }
        }
        if let path = site.broker?.passwordFile, !FileManager.default.isReadableFile(atPath: path) {
            throw document.error("broker.password_file", "cannot read '\(path)'")
        }
        if let keepAlive = site.broker?.keepAlive, !(5...65535).contains(keepAlive) {
            throw document.error("broker.keep_alive", "\(keepAlive): use 5…65535 seconds")
        }
        if let capacity = site.broker?.offlineQueue?.capacity, capacity < 0 {
            throw document.error("broker.offline_queue.capacity", "\(capacity): use 0 or more messages")
        }
        if let prefix = site.homeassistant?.prefix,
           prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: { Self.topicLevelProblem(String($0)) != nil })
        {
            throw document.error("homeassistant.prefix", "'\(prefix)': topic levels of letters, digits, '-' and '_', separated by '/' (Home Assistant's default is homeassistant)")
        }
        if let metrics = site.metrics {
            for service in ServiceName.allCases {
                if let port = metrics.port(of: service), !(1...65535).contains(port) {
                    throw document.error("metrics.\(service.rawValue)", "\(port): use 1…65535")
                }
            }
            let ports = ServiceName.allCases.compactMap { metrics.port(of: $0) }
            if Set(ports).count != ports.count {
                throw document.error("metrics", "two services on one port: give each its own")
            }
            if let bind = metrics.bind, !Self.isIPv4(bind) {
                throw document.error("metrics.bind", "'\(bind)': an IPv4 address (127.0.0.1, 0.0.0.0)")
            }
        }
        return []
    }

    /// Nil when `id` can be one topic level (site id, device id…), else why not.
    public static func topicLevelProblem(_ id: String) -> String? {
        // Checked by hand: a regular expression would load ICU (~3 MB resident) for one test.
        let allowed = { (c: UInt8) in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
        guard !id.isEmpty, id.utf8.allSatisfy(allowed) else {
            return "'\(id)': use letters, digits, '-' and '_' only (it becomes a topic level)"
        }
        return nil
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { $0.count <= 3 && UInt8($0) != nil }
    }

    static func brokerURLProblem(_ error: MQTTError) -> String {
        guard case .invalidConfiguration(let message) = error else { return "\(error)" }
        return message.hasSuffix("bad port") ? message + " (use 1…65535)" : message
    }
}

/// The site file after decoding and every check, with the warnings the checks gave.
public struct CheckedSite: Sendable {
    public var site: SiteConfiguration
    public var warnings: [ConfigError]
}
