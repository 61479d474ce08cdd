import Foundation

/// Every sentence an alert carries, in the site's language (English and French).
/// User rules may bring their own `message`; the rest is written here.
public struct AlertTexts: Sendable {
    public let language: AlertLanguage
    public init(_ language: AlertLanguage) { self.language = language }

    private func pick(_ en: String, _ fr: String) -> String { language == .fr ? fr : en }

    public func above(_ what: String, value: String, level: String) -> String {
        pick("\(what) is \(value), above \(level)", "\(what) vaut \(value), au-dessus de \(level)")
    }
    public func below(_ what: String, value: String, level: String) -> String {
        pick("\(what) is \(value), below \(level)", "\(what) vaut \(value), en dessous de \(level)")
    }
    public func dailyPeak(_ what: String) -> String {
        pick("today's peak of \(what)", "pic du jour de \(what)")
    }
    public func noData(_ what: String, seconds: Int) -> String {
        pick("no data on \(what) for \(seconds) s", "aucune donnée sur \(what) depuis \(seconds) s")
    }
    public func communicationLost(_ device: String) -> String {
        pick("communication lost with \(device)", "communication perdue avec \(device)")
    }
    public func tic(_ meter: String, state: String) -> String {
        switch state {
        case "absent": return pick("TIC of \(meter) absent (no signal)", "TIC de \(meter) absente (aucun signal)")
        case "not_activated": return pick("TIC of \(meter) not activated", "TIC de \(meter) non activée")
        case "interrupted": return pick("TIC of \(meter) interrupted", "TIC de \(meter) interrompue")
        default: return pick("TIC of \(meter): \(state)", "TIC de \(meter) : \(state)")
        }
    }
    public func chargerError(_ id: String) -> String {
        pick("charger \(id) reports an error", "la borne \(id) signale une erreur")
    }
    public func breakerTripped(_ id: String) -> String {
        pick("breaker \(id) tripped", "le disjoncteur \(id) a déclenché")
    }
    public func serviceOffline(_ service: String) -> String {
        pick("\(service) is offline", "\(service) est hors ligne")
    }
    public func serviceSilent(_ service: String, seconds: Int) -> String {
        pick("\(service) is silent: its last heartbeat is \(seconds) s old",
             "\(service) ne répond plus : son dernier signal de vie date de \(seconds) s")
    }
    public func serviceOnline(_ service: String) -> String {
        pick("\(service) is back online", "\(service) est de nouveau en ligne")
    }
    public func licenceExpiring(days: Int) -> String {
        pick("the licence expires in \(days) day\(days == 1 ? "" : "s")",
             "la licence expire dans \(days) jour\(days == 1 ? "" : "s")")
    }
    public func licenceLapsed(_ reason: String) -> String {
        pick("licence: \(reason) (metering and control go on)", "licence : \(reason) (mesure et pilotage continuent)")
    }
    public func outboxFilling(percent: Int) -> String {
        pick("the outbox is \(percent) % full", "la file d'envoi est pleine à \(percent) %")
    }

    // MARK: notifications (e-mail, ntfy)
    public func status(_ status: AlertStatus) -> String {
        switch status {
        case .firing: pick("FIRING", "ALERTE")
        case .resolved: pick("RESOLVED", "RÉSOLU")
        }
    }
    public func severity(_ severity: AlertSeverity) -> String {
        switch severity {
        case .info: pick("info", "info")
        case .warning: pick("warning", "avertissement")
        case .critical: pick("critical", "critique")
        }
    }
    public var siteWord: String { pick("site", "site") }
    public var since: String { pick("since", "depuis") }
    public var resolvedAt: String { pick("resolved at", "résolu à") }
    public var device: String { pick("device", "appareil") }
    public var firingHeading: String { pick("Firing", "En cours") }
    public var resolvedHeading: String { pick("Resolved", "Résolues") }
    public var footer: String {
        pick("Sent by the Phasor bridge. Metering and control never depend on alerts.",
             "Envoyé par le pont Phasor. La mesure et le pilotage ne dépendent jamais des alertes.")
    }
}
