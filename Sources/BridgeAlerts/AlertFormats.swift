import Foundation
import PhasorCore

/// The bytes each channel sends, built from a notification. Pure.
public enum AlertFormats {
    static func iso(_ date: Date) -> String { MeterTimestamp(date: date, utcOffsetSeconds: 0).iso8601 }

    private static func object(_ w: inout JSONWriter, _ map: [String: String]) {
        w.beginObject()
        for (k, v) in map.sorted(by: { $0.key < $1.key }) { w.key(k); w.value(v) }
        w.endObject()
    }

    /// Alertmanager's webhook body, version 4 (what Grafana, n8n, Home Assistant's
    /// webhook triggers and most receivers read).
    public static func alertmanagerJSON(_ n: AlertNotification, receiver: String, externalURL: String = "") -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("version"); w.value("4")
        w.key("groupKey"); w.value(n.groupKey)
        w.key("truncatedAlerts"); w.value(0)
        w.key("status"); w.value(n.status.rawValue)
        w.key("receiver"); w.value(receiver)
        w.key("groupLabels"); object(&w, n.groupLabels)
        w.key("commonLabels"); object(&w, n.commonLabels)
        w.key("commonAnnotations"); object(&w, n.commonAnnotations)
        w.key("externalURL"); w.value(externalURL)
        w.key("alerts")
        w.beginArray()
        for a in n.alerts {
            w.beginObject()
            w.key("status"); w.value(a.status.rawValue)
            w.key("labels"); object(&w, a.labels)
            w.key("annotations"); object(&w, a.annotations)
            w.key("startsAt"); w.value(iso(a.startsAt))
            // Alertmanager's zero time for an alert still firing.
            w.key("endsAt"); w.value(a.endsAt.map(iso) ?? "0001-01-01T00:00:00Z")
            w.key("generatorURL"); w.value("")
            w.key("fingerprint"); w.value(a.fingerprint)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// The retained state and the event of one alert on MQTT (`alert/<id>`,
    /// schema `alert`): the fields of the older service alerts and Alertmanager's.
    public static func mqttJSON(_ a: Alert) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.value(a.id)
        w.key("active"); w.value(a.status == .firing)
        w.key("status"); w.value(a.status.rawValue)
        w.key("severity"); w.value(a.severity.rawValue)
        w.key("message"); w.value(a.summary)
        w.key("time"); w.value(iso(a.endsAt ?? a.startsAt))
        w.key("starts_at"); w.value(iso(a.startsAt))
        if let end = a.endsAt { w.key("ends_at"); w.value(iso(end)) }
        w.key("fingerprint"); w.value(a.fingerprint)
        w.key("labels"); object(&w, a.labels)
        w.endObject()
        return w.bytes
    }

    /// An alert back from its MQTT state (`mqttJSON`); nil for anything else (an
    /// older payload without labels, a cleared retained message).
    public static func alert(fromMQTT payload: [UInt8]) -> Alert? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
              let labels = o["labels"] as? [String: String], labels["alertname"] != nil,
              let status = (o["status"] as? String).flatMap(AlertStatus.init(rawValue:)),
              let starts = (o["starts_at"] as? String).flatMap({ ISO8601.parse($0)?.date }) else { return nil }
        let summary = o["message"] as? String ?? ""
        return Alert(labels: labels, annotations: ["summary": summary], status: status, startsAt: starts,
                     endsAt: (o["ends_at"] as? String).flatMap { ISO8601.parse($0)?.date })
    }

    /// One line per alert, for ntfy's body and the e-mail's list.
    static func line(_ a: Alert, texts: AlertTexts) -> String {
        let when = a.status == .firing ? "\(texts.since) \(iso(a.startsAt))" : "\(texts.resolvedAt) \(iso(a.endsAt ?? a.startsAt))"
        return "[\(texts.severity(a.severity))] \(a.summary) (\(when))"
    }

    public static func title(_ n: AlertNotification, site: String, texts: AlertTexts) -> String {
        let count = n.status == .firing ? n.firing.count : n.resolved.count
        let name = n.groupLabels["alertname"] ?? n.commonLabels["alertname"] ?? "alerts"
        return "[\(texts.status(n.status)):\(count)] \(name) (\(texts.siteWord) \(site))"
    }

    /// ntfy: body, and the `Title`, `Priority`, `Tags` headers.
    public static func ntfy(_ n: AlertNotification, site: String, texts: AlertTexts) -> (body: String, headers: [(String, String)]) {
        let body = n.alerts.map { line($0, texts: texts) }.joined(separator: "\n")
        let priority: Int
        switch (n.status, n.severity) {
        case (.resolved, _): priority = 2
        case (.firing, .critical): priority = 5
        case (.firing, .warning): priority = 4
        case (.firing, .info): priority = 3
        }
        let tags = n.status == .resolved ? "white_check_mark" : (n.severity == .critical ? "rotating_light" : "warning")
        return (body, [("Title", title(n, site: site, texts: texts)), ("Priority", String(priority)), ("Tags", tags)])
    }

    /// A whole RFC 5322 message in UTF-8 (quoted-printable would be longer for French;
    /// 8bit is accepted by every server that speaks 8BITMIME, and lines stay short).
    public static func email(_ n: AlertNotification, site: String, from: String, to: [String], texts: AlertTexts,
                             messageID: String) -> [UInt8] {
        var body: [String] = []
        if !n.firing.isEmpty {
            body.append("\(texts.firingHeading):")
            body += n.firing.map { "  " + line($0, texts: texts) + deviceSuffix($0, texts) }
            body.append("")
        }
        if !n.resolved.isEmpty {
            body.append("\(texts.resolvedHeading):")
            body += n.resolved.map { "  " + line($0, texts: texts) + deviceSuffix($0, texts) }
            body.append("")
        }
        body.append("-- ")
        body.append(texts.footer)
        let subject = encodedWord(title(n, site: site, texts: texts))
        let headers = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(subject)",
            "Date: \(rfc2822(n.time))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "Content-Language: \(texts.language.rawValue)",
        ]
        return Array((headers.joined(separator: "\r\n") + "\r\n\r\n" + body.joined(separator: "\r\n") + "\r\n").utf8)
    }

    private static func deviceSuffix(_ a: Alert, _ texts: AlertTexts) -> String {
        a.device.map { " — \(texts.device) \($0)" } ?? ""
    }

    /// RFC 2047 for a header that is not ASCII.
    public static func encodedWord(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 >= 0x80 }) else { return s }
        return "=?utf-8?B?\(Data(s.utf8).base64EncodedString())?="
    }

    static func rfc2822(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: date)
    }
}
