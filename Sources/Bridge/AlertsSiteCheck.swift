import BridgeAlerts
import BridgeLicences
import Foundation
import PhasorCore
import PhasorService

/// The site file's `alerts:` section, checked as phasor-bridge checks it at start;
/// `phasor config check` runs the same.
public struct AlertsSiteCheck: SiteCheck {
    public init() {}

    public func check(_ site: SiteConfiguration, in document: ConfigDocument) throws -> [ConfigError] {
        guard let alerts = site.alerts else { return [] }
        return try check(alerts, site: site.site, in: document)
    }

    func check(_ alerts: AlertsSection, site: String, in document: ConfigDocument) throws -> [ConfigError] {
        if let zone = alerts.timeZone, TimeZone(identifier: zone) == nil {
            throw document.error("alerts.time_zone", "'\(zone)': use an IANA zone such as Europe/Brussels")
        }
        for (i, id) in (alerts.exclude ?? []).enumerated() {
            if let problem = CommonSiteCheck.topicLevelProblem(id) { throw document.error("alerts.exclude[\(i)]", problem) }
        }
        do {
            _ = try AlertEngine(site: site, section: alerts, startedAt: Date(timeIntervalSince1970: 0))
        } catch {
            throw document.error(error.field, error.message)
        }
        var ids = Set<String>()
        for (i, rule) in (alerts.rules ?? []).enumerated() {
            guard ids.insert(rule.id).inserted else { throw document.error("alerts.rules[\(i)].id", "'\(rule.id)' is used twice") }
            if rule.id == "event" { throw document.error("alerts.rules[\(i)].id", "'event' names the topic of every change (alert/event)") }
        }
        if let route = alerts.route {
            for (name, value) in [("group_wait_s", route.groupWaitS), ("group_interval_s", route.groupIntervalS),
                                  ("repeat_interval_s", route.repeatIntervalS)] {
                if let value, !(value.isFinite && value >= 0 && value <= 7 * 86_400) {
                    throw document.error("alerts.route.\(name)", "\(JSONWriter.format(value)): use 0…604800 seconds")
                }
            }
            if let interval = route.groupIntervalS, interval < 1 {
                throw document.error("alerts.route.group_interval_s", "use at least 1 second")
            }
        }
        func url(_ field: String, _ text: String, schemes: [String]) throws {
            guard let u = URL(string: text), let scheme = u.scheme, schemes.contains(scheme), u.host?.isEmpty == false else {
                throw document.error(field, "'\(Excerpt.of(text))': use \(schemes.map { "\($0)://host…" }.joined(separator: " or "))")
            }
        }
        func readable(_ field: String, _ path: String?) throws {
            if let path, !FileManager.default.isReadableFile(atPath: path) { throw document.error(field, "cannot read '\(path)'") }
        }
        for (i, w) in (alerts.webhooks ?? []).enumerated() {
            try url("alerts.webhooks[\(i)].url", w.url, schemes: ["http", "https"])
            try readable("alerts.webhooks[\(i)].secret_file", w.secretFile)
            try readable("alerts.webhooks[\(i)].ca_file", w.caFile)
        }
        for (i, n) in (alerts.ntfy ?? []).enumerated() {
            try url("alerts.ntfy[\(i)].url", n.url, schemes: ["http", "https"])
            guard let path = URL(string: n.url)?.path, path.count > 1 else {
                throw document.error("alerts.ntfy[\(i)].url", "name the topic: https://ntfy.sh/<topic>")
            }
            try readable("alerts.ntfy[\(i)].token_file", n.tokenFile)
        }
        for (i, e) in (alerts.email ?? []).enumerated() {
            try url("alerts.email[\(i)].server", e.server, schemes: ["smtp"])
            guard !e.to.isEmpty else { throw document.error("alerts.email[\(i)].to", "give at least one address") }
            for (j, address) in ([e.from] + e.to).enumerated() where !address.contains("@") {
                throw document.error(j == 0 ? "alerts.email[\(i)].from" : "alerts.email[\(i)].to[\(j - 1)]", "'\(address)' is not an e-mail address")
            }
            if e.passwordFile != nil && e.username == nil {
                throw document.error("alerts.email[\(i)].username", "a password needs a username")
            }
            if e.security == SMTPSecurity.none, e.username != nil, !["127.0.0.1", "localhost", "::1"].contains(URL(string: e.server)?.host ?? "") {
                throw document.error("alerts.email[\(i)].security", "'none' would send the password in clear: use starttls or tls")
            }
            try readable("alerts.email[\(i)].password_file", e.passwordFile)
            try readable("alerts.email[\(i)].ca_file", e.caFile)
        }
        if let file = alerts.queueFile {
            let folder = (file as NSString).deletingLastPathComponent
            if !FileManager.default.isWritableFile(atPath: folder.isEmpty ? "." : folder) {
                throw document.error("alerts.queue_file", "cannot write in '\(folder)'")
            }
        }
        let names = (alerts.webhooks ?? []).enumerated().map { "webhook:\($0.element.name ?? String($0.offset))" }
            + (alerts.ntfy ?? []).enumerated().map { "ntfy:\($0.element.name ?? String($0.offset))" }
            + (alerts.email ?? []).enumerated().map { "email:\($0.element.name ?? String($0.offset))" }
        if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw document.error("alerts", "two channels are named '\(duplicate)'")
        }
        return []
    }
}

/// The site file's `licence:` section, checked as phasor-bridge checks it at start;
/// `phasor config check` runs the same.
public struct LicenceSiteCheck: SiteCheck {
    public init() {}

    public func check(_ site: SiteConfiguration, in document: ConfigDocument) throws -> [ConfigError] {
        if let licence = site.licence { try check(licence, in: document) }
        return []
    }

    func check(_ licence: LicenceSection, in document: ConfigDocument) throws {
        for (id, key) in licence.trustedKeys ?? [:] where LicenceFile.publicKey(base64: key) == nil {
            throw document.error("licence.trusted_keys.\(id)", "not a base64 Ed25519 public key (32 bytes)")
        }
        for (i, d) in (licence.warnDays ?? []).enumerated() where !(1...365).contains(d) {
            throw document.error("licence.warn_days[\(i)]", "\(d): use 1…365 days")
        }
        let machineID = licence.machineIdFile ?? LicenceSection.defaultMachineIdFile
        if !FileManager.default.isReadableFile(atPath: machineID) {
            throw document.error("licence.machine_id_file", "cannot read '\(machineID)' (the serial number comes from it)")
        }
        for (tier, features) in licence.tiers ?? [:] where features.contains(where: { $0.isEmpty || $0.contains(",") }) {
            throw document.error("licence.tiers.\(tier)", "feature names are words without commas")
        }
    }
}
