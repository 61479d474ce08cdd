import BridgeAlerts
import BridgeLicences
import Crypto
import Foundation
import Logging
import MQTT
import PhasorCore
import ServiceLifecycle

/// Judges the installed licence at start and every `interval`: publishes the
/// retained `licence` topic, raises the expiry warnings (30, 7, 1 days) and the
/// lapse as alerts, and keeps the trusted-time mark. What it decides gates only
/// the bridge's premium features; a refused or lapsed licence stops nothing else.
public final class LicenceService: Service, Sendable {
    public struct Settings: Sendable {
        public var file: String
        public var markFile: String
        public var evaluator: LicenceEvaluator

        /// From the site file's `licence:` section (defaults when absent).
        public init(_ section: LicenceSection?) throws {
            file = section?.file ?? LicenceSection.defaultFile
            markFile = URL(fileURLWithPath: section?.stateDir ?? LicenceSection.defaultStateDir)
                .appendingPathComponent("trusted-time").path
            var keys: [String: Curve25519.Signing.PublicKey] = [:]
            for (id, text) in section?.trustedKeys ?? [:] {
                guard let key = LicenceFile.publicKey(base64: text) else {
                    throw ConfigError(file: "", line: nil, field: "licence.trusted_keys.\(id)", message: "not a base64 Ed25519 public key (32 bytes)")
                }
                keys[id] = key
            }
            let serial = try MachineSerial.serial(machineIDFile: section?.machineIdFile ?? LicenceSection.defaultMachineIdFile)
            evaluator = LicenceEvaluator(serial: serial, keys: keys, tiers: section?.tiers ?? LicenceTiers.defaults,
                                         warnDays: section?.warnDays ?? LicenceSection.defaultWarnDays)
        }
    }

    let settings: Settings
    let client: MQTTClient
    let topics: TopicBuilder
    let alerts: AlertCenter?
    let clock: any WallClock
    let logger: Logger
    let interval: Duration
    private let current = Locked<LicenceStatus?>(nil)

    public init(settings: Settings, client: MQTTClient, topics: TopicBuilder, alerts: AlertCenter?, clock: any WallClock,
                logger: Logger, interval: Duration = .seconds(3600)) {
        self.settings = settings
        self.client = client
        self.topics = topics
        self.alerts = alerts
        self.clock = clock
        self.logger = logger
        self.interval = interval
    }

    /// The last judgement (nil before the first).
    public var status: LicenceStatus? { current.withLock { $0 } }

    public func run() async throws {
        while !Task.isCancelled {
            evaluate()
            do { try await Task.sleep(for: interval) } catch { break }
        }
    }

    /// Judges the licence now; publishes and alerts on any change.
    @discardableResult
    public func evaluate() -> LicenceStatus {
        let text = try? String(contentsOfFile: settings.file, encoding: .utf8)
        var time = TrustedTime.load(from: settings.markFile) ?? TrustedTime(mark: .distantPast)
        let status = settings.evaluator.evaluate(text, now: clock.now(), time: &time)
        do { try time.save(to: settings.markFile) } catch {
            logger.warning("cannot keep the trusted-time mark", metadata: ["file": "\(settings.markFile)", "error": "\(error)"])
        }
        let previous = current.withLock { old -> LicenceStatus? in
            defer { old = status }
            return old
        }
        if previous?.state != status.state || previous?.refusal != status.refusal || previous?.warning != status.warning {
            var metadata: Logger.Metadata = ["state": "\(status.state.rawValue)", "tier": "\(status.tier)", "serial": "\(status.serial)"]
            if let refusal = status.refusal { metadata["reason"] = "\(refusal)" }
            if status.clockBehind { metadata["clock"] = "behind the trusted time: judged at \(Licence.time(status.judgedAt))" }
            logger.notice("licence", metadata: metadata)
        }
        try? client.publish(MQTTMessage(topic: topics.licence, payload: status.json, qos: .atLeastOnce, retain: true,
                                        properties: .init(contentType: "application/json")))
        raiseAlerts(status)
        return status
    }

    private func raiseAlerts(_ status: LicenceStatus) {
        guard let alerts else { return }
        let texts = alerts.texts
        for days in settings.evaluator.warnDays {
            let on = status.warning == days
            let severity: AlertSeverity = days <= 1 ? .critical : (days <= 7 ? .warning : .info)
            alerts.event("licence_expires_\(days)d", active: on, severity: severity,
                         summary: texts.licenceExpiring(days: max(status.daysLeft ?? days, 0)))
        }
        let lapsed = status.state == .grace || status.state == .refused
        let reason = status.refusal?.description ?? "expired, in its grace period (\(-(status.daysLeft ?? 0)) days past)"
        alerts.event("licence_lapsed", active: lapsed, severity: .warning, summary: texts.licenceLapsed(reason))
    }
}
