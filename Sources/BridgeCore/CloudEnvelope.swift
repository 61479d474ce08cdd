import Foundation
import MQTT
import PhasorCore

/// One message as the cloud receives it: the original payload inside an envelope
/// naming where it came from, so consumers can deduplicate on `(site, stream, seq)`
/// and order by `src_ts` whatever the protocol version (schemas/cloud-envelope.schema.json).
/// On MQTT 5 the same facts travel as user properties (`stream`, `seq`, `src_ts`, and
/// `hist` = `1` for a replayed historical message), so a broker rule can route
/// on them without parsing JSON.
public struct CloudEnvelope: Sendable, Hashable {
    public var site: String
    public var stream: String
    public var seq: Int64
    public var sourceTime: Date
    public var historical: Bool
    public var messageClass: MessageClass
    public var payload: [UInt8]

    public init(site: String, stream: String, seq: Int64, sourceTime: Date, historical: Bool, messageClass: MessageClass,
                payload: [UInt8]) {
        self.site = site
        self.stream = stream
        self.seq = seq
        self.sourceTime = sourceTime
        self.historical = historical
        self.messageClass = messageClass
        self.payload = payload
    }

    /// The envelope's JSON: the payload is embedded as JSON when it is JSON, else as a string.
    public func encode() -> [UInt8] {
        var w = JSONWriter(capacity: payload.count + 192)
        w.beginObject()
        w.key("v"); w.value(1)
        w.key("site"); w.value(site)
        w.key("stream"); w.value(stream)
        w.key("seq"); w.value(Int(seq))
        w.key("src_ts"); w.value(ISO8601.format(sourceTime, utcOffsetSeconds: 0))
        w.key("hist"); w.value(historical)
        w.key("class"); w.value(messageClass.rawValue)
        w.key("payload")
        var out = w.bytes
        if Self.isJSON(payload) {
            out += payload
        } else {
            var s = JSONWriter(capacity: payload.count + 8)
            s.value(String(decoding: payload, as: UTF8.self))
            out += s.bytes
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The MQTT 5 user properties that repeat the envelope's keys.
    public var userProperties: [MQTTUserProperty] {
        var p = [MQTTUserProperty("stream", stream), MQTTUserProperty("seq", String(seq)),
                 MQTTUserProperty("src_ts", ISO8601.format(sourceTime, utcOffsetSeconds: 0))]
        if historical { p.append(MQTTUserProperty("hist", "1")) }
        return p
    }

    static func isJSON(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[") || first == UInt8(ascii: "\"")
                || first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39)
        else { return false }
        return (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil
    }

    /// The top-level `"time"` of a JSON payload (Phasor's payloads carry one), if any.
    public static func sourceTime(of payload: [UInt8]) -> Date? {
        let key = Array("\"time\":\"".utf8)
        guard payload.first == UInt8(ascii: "{"), payload.count > key.count else { return nil }
        var i = 0
        let end = payload.count - key.count
        while i <= end {
            if payload[i] == key[0] && Array(payload[i..<(i + key.count)]) == key {
                let start = i + key.count
                guard let close = payload[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return ISO8601.parse(String(decoding: payload[start..<close], as: UTF8.self))?.date
            }
            i += 1
        }
        return nil
    }
}
