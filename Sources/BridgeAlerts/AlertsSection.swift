import Foundation

/// The site file's `alerts:` section (the bridge's; see docs/alerts.md). Decoded
/// strictly like the rest of the file; `AlertsSiteCheck` (in Bridge) checks the
/// values that depend on each other.
public struct AlertsSection: Decodable, Sendable {
    /// Language of e-mail and ntfy texts: `en` (default) or `fr`.
    public var language: AlertLanguage?
    /// IANA time zone of rule windows (default: the machine's).
    public var timeZone: String?
    /// Devices (meter, device, charge-point ids) whose alerts are never raised.
    public var exclude: [String]?
    /// Threshold and no-data rules on any published topic.
    public var rules: [AlertRuleConfig]?
    /// Built-in device events, each on unless set to `false`.
    public var events: BuiltInEventsConfig?
    /// Grouping and repetition, as Alertmanager's route.
    public var route: RouteConfig?
    public var webhooks: [WebhookConfig]?
    public var ntfy: [NtfyConfig]?
    public var email: [EmailConfig]?
    /// Where notifications waiting for webhook, ntfy or e-mail are kept across restarts
    /// (e.g. `/var/lib/phasor/alert-queue.json`); without it they wait in memory.
    public var queueFile: String?

    public init(language: AlertLanguage? = nil, timeZone: String? = nil, exclude: [String]? = nil,
                rules: [AlertRuleConfig]? = nil, events: BuiltInEventsConfig? = nil, route: RouteConfig? = nil,
                webhooks: [WebhookConfig]? = nil, ntfy: [NtfyConfig]? = nil, email: [EmailConfig]? = nil, queueFile: String? = nil) {
        self.language = language
        self.timeZone = timeZone
        self.exclude = exclude
        self.rules = rules
        self.events = events
        self.route = route
        self.webhooks = webhooks
        self.ntfy = ntfy
        self.email = email
        self.queueFile = queueFile
    }
}

public enum AlertLanguage: String, Decodable, Sendable, CaseIterable {
    case en, fr
}

public enum AlertSeverity: String, Decodable, Sendable, CaseIterable, Comparable {
    case info, warning, critical
    var rank: Int { switch self { case .info: 0; case .warning: 1; case .critical: 2 } }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// One rule. A threshold rule has `above` or `below` (the raise level) and may have
/// `clear` (the clear level, on the safe side of the raise level: hysteresis); a
/// no-data rule has only `no_data_after_s`. Both may be combined.
public struct AlertRuleConfig: Decodable, Sendable {
    /// `[a-z0-9_]+`: the alert's name and its MQTT topic `alert/<id>` (with the device appended for wildcards).
    public var id: String
    /// The topic under the site's root, e.g. `meter/main/power_import` or `control/state`;
    /// `+` matches one level (one alert per matching topic).
    public var topic: String
    /// For a JSON payload: the key, dotted for nested objects (`budget.forecast_kw`).
    public var field: String?
    /// Compare the value as a fraction of this other key of the same JSON payload
    /// (`field: budget.month_peak_kw`, `ratio_to: slider_kw`, `above: 0.9`: the month's
    /// peak approaching the slider).
    public var ratioTo: String?
    /// Compare the day's highest value so far (local midnight to midnight): a daily peak.
    public var dailyMax: Bool?
    public var above: Double?
    public var below: Double?
    public var clear: Double?
    public var raiseAfterS: Double?
    public var clearAfterS: Double?
    /// Raised when nothing arrived on the topic for this long.
    public var noDataAfterS: Double?
    public var severity: AlertSeverity?
    public var window: TimeWindowConfig?
    /// Text of the alert; `{value}` is replaced by the value that raised it.
    public var message: String?

    public init(id: String, topic: String, field: String? = nil, ratioTo: String? = nil, dailyMax: Bool? = nil, above: Double? = nil, below: Double? = nil,
                clear: Double? = nil, raiseAfterS: Double? = nil, clearAfterS: Double? = nil, noDataAfterS: Double? = nil,
                severity: AlertSeverity? = nil, window: TimeWindowConfig? = nil, message: String? = nil) {
        self.id = id
        self.topic = topic
        self.field = field
        self.ratioTo = ratioTo
        self.dailyMax = dailyMax
        self.above = above
        self.below = below
        self.clear = clear
        self.raiseAfterS = raiseAfterS
        self.clearAfterS = clearAfterS
        self.noDataAfterS = noDataAfterS
        self.severity = severity
        self.window = window
        self.message = message
    }
}

/// When a rule may raise: local time `from`…`to` (`HH:MM`; `to` before `from`
/// wraps past midnight) on `days` (`mon`…`sun`, default every day).
public struct TimeWindowConfig: Decodable, Sendable {
    public var from: String
    public var to: String
    public var days: [String]?

    public init(from: String, to: String, days: [String]? = nil) {
        self.from = from
        self.to = to
        self.days = days
    }
}

public struct BuiltInEventsConfig: Decodable, Sendable {
    public var communicationLost: Bool?
    public var tic: Bool?
    public var chargerError: Bool?
    public var breakerTripped: Bool?
    public var serviceOffline: Bool?
    public var licence: Bool?
    public var outbox: Bool?

    public init(communicationLost: Bool? = nil, tic: Bool? = nil, chargerError: Bool? = nil, breakerTripped: Bool? = nil,
                serviceOffline: Bool? = nil, licence: Bool? = nil, outbox: Bool? = nil) {
        self.communicationLost = communicationLost
        self.tic = tic
        self.chargerError = chargerError
        self.breakerTripped = breakerTripped
        self.serviceOffline = serviceOffline
        self.licence = licence
        self.outbox = outbox
    }
}

public struct RouteConfig: Decodable, Sendable {
    public var groupBy: [String]?
    public var groupWaitS: Double?
    public var groupIntervalS: Double?
    public var repeatIntervalS: Double?
    public var sendResolved: Bool?

    public init(groupBy: [String]? = nil, groupWaitS: Double? = nil, groupIntervalS: Double? = nil,
                repeatIntervalS: Double? = nil, sendResolved: Bool? = nil) {
        self.groupBy = groupBy
        self.groupWaitS = groupWaitS
        self.groupIntervalS = groupIntervalS
        self.repeatIntervalS = repeatIntervalS
        self.sendResolved = sendResolved
    }
}

/// A POST of Alertmanager's webhook JSON (version 4), signed with HMAC-SHA256 when a secret is set.
public struct WebhookConfig: Decodable, Sendable {
    public var name: String?
    public var url: String
    /// A file whose first line is the HMAC secret (kept out of the site file).
    public var secretFile: String?
    public var caFile: String?
    public var timeoutS: Double?

    public init(name: String? = nil, url: String, secretFile: String? = nil, caFile: String? = nil, timeoutS: Double? = nil) {
        self.name = name
        self.url = url
        self.secretFile = secretFile
        self.caFile = caFile
        self.timeoutS = timeoutS
    }
}

/// ntfy: `url` is the server and topic (`https://ntfy.sh/my-site-alerts`).
public struct NtfyConfig: Decodable, Sendable {
    public var name: String?
    public var url: String
    /// A file whose first line is an access token (`Authorization: Bearer`).
    public var tokenFile: String?
    public var caFile: String?
    public var timeoutS: Double?

    public init(name: String? = nil, url: String, tokenFile: String? = nil, caFile: String? = nil, timeoutS: Double? = nil) {
        self.name = name
        self.url = url
        self.tokenFile = tokenFile
        self.caFile = caFile
        self.timeoutS = timeoutS
    }
}

public enum SMTPSecurity: String, Decodable, Sendable, CaseIterable {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server does not offer it.
    case starttls
    /// TLS from the first byte (port 465).
    case tls
    /// No encryption: only for a relay on the same machine.
    case none
}

public struct EmailConfig: Decodable, Sendable {
    public var name: String?
    /// `smtp://host:port`.
    public var server: String
    public var security: SMTPSecurity?
    public var username: String?
    public var passwordFile: String?
    public var caFile: String?
    public var from: String
    public var to: [String]
    public var timeoutS: Double?

    public init(name: String? = nil, server: String, security: SMTPSecurity? = nil, username: String? = nil,
                passwordFile: String? = nil, caFile: String? = nil, from: String, to: [String], timeoutS: Double? = nil) {
        self.name = name
        self.server = server
        self.security = security
        self.username = username
        self.passwordFile = passwordFile
        self.caFile = caFile
        self.from = from
        self.to = to
        self.timeoutS = timeoutS
    }
}
