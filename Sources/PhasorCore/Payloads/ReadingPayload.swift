import Foundation

/// The JSON state payload of a reading (`…/meter/<device>/state`):
/// a flat object, one key per quantity, plus the reserved keys `device`, `time` (the
/// meter's own clock when it sends one, e.g. P1's 0-0:1.0.0) and `received` (the gateway's
/// clock when the reading arrived, UTC with milliseconds).
///
/// ```json
/// {"device":"p1","time":"2026-11-21T14:00:01+01:00","received":"2026-11-21T13:00:01.093Z","power_import":1234}
/// ```
/// A meter's clock may be seconds or minutes off the box's; whoever lines a reading up with
/// the box's other events (control, against its setpoints and the chargers' reports) uses `received`.
/// Numbers are in the quantity's catalogue unit; texts are strings; meter
/// timestamps are ISO 8601 strings, or `null` for a "no value" placeholder.
public enum ReadingPayload {
    public static let reservedKeys: Set<String> = ["device", "time", "received"]

    public static func encode(_ reading: Reading, received: Date? = nil) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("device"); w.value(reading.device)
        w.key("time"); w.value(reading.time.iso8601)
        if let received { w.key("received"); w.value(ISO8601.format(received, utcOffsetSeconds: 0)) }
        for (q, v) in reading.values where !reservedKeys.contains(q.rawValue) {
            w.key(q.rawValue)
            write(v, into: &w)
        }
        w.endObject()
        return w.bytes
    }

    /// The payload of a per-quantity topic: a plain number, text or timestamp.
    public static func encodeValue(_ value: MeasuredValue) -> [UInt8] {
        switch value {
        case .number(let d): Array(JSONWriter.format(d).utf8)
        case .text(let s): Array(s.utf8)
        case .time(let t): Array((t?.iso8601 ?? "").utf8)
        }
    }

    private static func write(_ v: MeasuredValue, into w: inout JSONWriter) {
        switch v {
        case .number(let d): w.value(d)
        case .text(let s): w.value(s)
        case .time(let t): if let t { w.value(t.iso8601) } else { w.null() }
        }
    }

    /// Decodes a state payload into device, time text and values. Timestamps come
    /// back as `.text` (their ISO form): consumers compare, they do not re-publish.
    public static func decode(_ bytes: [UInt8]) throws -> (device: String, time: String, values: [Quantity: MeasuredValue]) {
        let state = try decodeState(bytes)
        return (state.device, state.time, state.values)
    }

    /// `decode`, with the gateway's `received` time when the payload has one.
    public static func decodeState(_ bytes: [UInt8]) throws
        -> (device: String, time: String, received: Date?, values: [Quantity: MeasuredValue])
    {
        guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw PayloadError.notAnObject
        }
        guard let device = object["device"] as? String else { throw PayloadError.missingField("device") }
        guard let time = object["time"] as? String else { throw PayloadError.missingField("time") }
        var values: [Quantity: MeasuredValue] = [:]
        for (k, v) in object where !reservedKeys.contains(k) {
            if let n = v as? NSNumber { values[Quantity(k)] = .number(n.doubleValue) }
            else if let s = v as? String { values[Quantity(k)] = .text(s) }
            else if v is NSNull { values[Quantity(k)] = .time(nil) }
        }
        var received: Date?
        if let text = object["received"] as? String {
            guard let date = ISO8601.parse(text)?.date else {
                throw PayloadError.invalidField("received", reason: "not an ISO 8601 date-time")
            }
            received = date
        }
        return (device, time, received, values)
    }
}

public enum PayloadError: Error, Equatable, CustomStringConvertible {
    case notAnObject
    case missingField(String)
    case invalidField(String, reason: String)

    public var description: String {
        switch self {
        case .notAnObject: "payload is not a JSON object"
        case .missingField(let f): "field '\(f)' is missing"
        case .invalidField(let f, let reason): "field '\(f)': \(reason)"
        }
    }
}
