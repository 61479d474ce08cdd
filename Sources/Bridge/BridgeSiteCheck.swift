import BridgeCore
import Foundation
import MQTT
import PhasorCore
import PhasorService

/// The bridge's section of the site file (`bridge:`), checked as phasor-bridge checks
/// it at start; `phasor config check` runs the same. Errors name file, line and field;
/// the service exits 2 on them.
public struct BridgeSiteCheck: SiteCheck {
    public init() {}

    public func check(_ site: SiteConfiguration, in document: ConfigDocument) throws -> [ConfigError] {
        guard let bridge = site.bridge else { return [] }
        var warnings: [ConfigError] = []
        if let cloud = bridge.cloud {
            do { _ = try MQTTBrokerURL(parsing: cloud.url) } catch {
                throw document.error("bridge.cloud.url", "\(error)")
            }
            if let prefix = cloud.prefix,
                prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: { CommonSiteCheck.topicLevelProblem(String($0)) != nil })
            {
                throw document.error("bridge.cloud.prefix", "'\(prefix)': topic levels of letters, digits, '-' and '_', separated by '/'")
            }
            if let p = cloud.protocol, !["auto", "5", "3.1.1"].contains(p) {
                throw document.error("bridge.cloud.protocol", "'\(p)': use auto, 5 or 3.1.1")
            }
            if let id = cloud.clientId, id.isEmpty || id.utf8.count > 64 {
                throw document.error("bridge.cloud.client_id", "use 1…64 characters")
            }
            for (field, path) in [("password_file", cloud.passwordFile), ("ca_file", cloud.caFile), ("cert_file", cloud.certFile),
                                  ("key_file", cloud.keyFile)] {
                if let path, !FileManager.default.isReadableFile(atPath: path) {
                    throw document.error("bridge.cloud.\(field)", "cannot read '\(path)'")
                }
            }
            if (cloud.certFile == nil) != (cloud.keyFile == nil) {
                throw document.error(cloud.certFile == nil ? "bridge.cloud.key_file" : "bridge.cloud.cert_file",
                                     "a client certificate needs both cert_file and key_file")
            }
            if cloud.certFile != nil && cloud.caFile == nil {
                throw document.error("bridge.cloud.ca_file", "a client certificate needs the CA file that verifies the broker")
            }
            if let k = cloud.keepAlive, !(5...65535).contains(k) {
                throw document.error("bridge.cloud.keep_alive", "\(k): use 5…65535 seconds")
            }
            if let e = cloud.sessionExpiryS, e < 60 {
                throw document.error("bridge.cloud.session_expiry_s", "\(e): use 60 s or more (the broker keeps our session through outages)")
            }
            if let m = cloud.maxInflight, !(1...65535).contains(m) {
                throw document.error("bridge.cloud.max_inflight", "\(m): use 1…65535")
            }
            if let t = cloud.ackTimeoutS, !(5...3600).contains(t) {
                throw document.error("bridge.cloud.ack_timeout_s", "\(t): use 5…3600 seconds")
            }
            if let r = cloud.backlogRate, r < 1 {
                throw document.error("bridge.cloud.backlog_rate", "\(r): use 1 or more messages per second")
            }
            if cloud.insecure == true {
                warnings.append(document.error("bridge.cloud.insecure", "TLS verification is off: for tests only"))
            }
        } else if bridge.outbox != nil || bridge.forward != nil || bridge.commands != nil {
            warnings.append(document.error("bridge", "no bridge.cloud: nothing is forwarded, the outbox is not opened"))
        }
        if let outbox = bridge.outbox {
            if let b = outbox.maxBytes, b < 1 << 20 {
                throw document.error("bridge.outbox.max_bytes", "\(b): use at least 1048576 (1 MiB)")
            }
            if let s = outbox.maxDiskShare, !(s > 0 && s <= 0.9) {
                throw document.error("bridge.outbox.max_disk_share", "\(s): use more than 0 and at most 0.9")
            }
            if let path = outbox.passwordFile, !FileManager.default.isReadableFile(atPath: path) {
                throw document.error("bridge.outbox.password_file", "cannot read '\(path)'")
            }
            if outbox.passwordFile != nil && outbox.username == nil {
                throw document.error("bridge.outbox.username", "a password file needs the user name it belongs to")
            }
            if let path = outbox.path {
                let folder = (path as NSString).deletingLastPathComponent
                var isDirectory: ObjCBool = false
                if path.isEmpty || path.hasSuffix("/") {
                    throw document.error("bridge.outbox.path", "'\(path)': give a file name")
                }
                if !folder.isEmpty, FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), !isDirectory.boolValue {
                    throw document.error("bridge.outbox.path", "'\(folder)' is not a folder")
                }
            }
        }
        for (i, rule) in (bridge.forward ?? []).enumerated() {
            do { _ = try TopicFilter("\(site.prefix ?? "phasor")/\(site.site)/\(rule.topic)") } catch {
                throw document.error("bridge.forward[\(i)].topic", "'\(rule.topic)': \(error)")
            }
            if rule.topic.hasPrefix("/") || rule.topic.isEmpty {
                throw document.error("bridge.forward[\(i)].topic", "'\(rule.topic)': give the topic below <prefix>/<site>/, without a leading '/'")
            }
        }
        for (i, rule) in (bridge.aggregate ?? []).enumerated() {
            if rule.topic.hasPrefix("/") || rule.topic.isEmpty {
                throw document.error("bridge.aggregate[\(i)].topic", "'\(rule.topic)': give the topic below <prefix>/<site>/, without a leading '/'")
            }
            do { _ = try TopicFilter("\(site.prefix ?? "phasor")/\(site.site)/\(rule.topic)") } catch {
                throw document.error("bridge.aggregate[\(i)].topic", "'\(rule.topic)': \(error)")
            }
            if let problem = rule.windowProblem {
                throw document.error("bridge.aggregate[\(i)].\(problem.field)", problem.message)
            }
        }
        if let a = bridge.commands?.maxAgeS, !(1...86_400).contains(a) {
            throw document.error("bridge.commands.max_age_s", "\(a): use 1…86400 seconds")
        }
        return warnings
    }
}
