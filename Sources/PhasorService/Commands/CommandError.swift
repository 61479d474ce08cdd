import Foundation
import PhasorCore

/// A refused operator command: published on `…/error/<service>` (never retained)
/// and logged, naming the topic, the field and the reason.
public struct CommandError: Error, Equatable, Sendable, CustomStringConvertible {
    public var topic: String
    public var field: String
    public var reason: String
    public var payload: String

    public init(topic: String, field: String, reason: String, payload: String) {
        self.topic = topic
        self.field = field
        self.reason = reason
        self.payload = String(payload.prefix(256))
    }

    public var description: String { "\(topic): \(field): \(reason)" }

    public func json(at time: Date) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("time"); w.value(MeterTimestamp(date: time, utcOffsetSeconds: 0).iso8601)
        w.key("topic"); w.value(topic)
        w.key("field"); w.value(field)
        w.key("reason"); w.value(reason)
        w.key("payload"); w.value(payload)
        w.endObject()
        return w.bytes
    }
}

/// Reads a numeric command payload: a plain number (`7.5`) or `{"value": 7.5}`.
public enum NumericCommand {
    public static func parse(
        _ payload: [UInt8], topic: String, field: String, range: ClosedRange<Double>, unit: String
    ) -> Result<Double, CommandError> {
        let text = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        func fail(_ reason: String) -> Result<Double, CommandError> {
            .failure(CommandError(topic: topic, field: field, reason: reason, payload: text))
        }
        var number = Double(text)
        if number == nil, text.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any] else {
                return fail("payload is neither a number nor a JSON object")
            }
            let unknown = Set(object.keys).subtracting(["value"])
            if !unknown.isEmpty { return fail("unknown field(s): \(unknown.sorted().joined(separator: ", "))") }
            guard let n = object["value"] as? NSNumber, !(object["value"] is Bool) else {
                return fail("'value' must be a number")
            }
            number = n.doubleValue
        }
        guard let value = number else { return fail("expected a number in \(unit), got '\(text)'") }
        guard value.isFinite else { return fail("must be a finite number") }
        guard range.contains(value) else {
            return fail("\(JSONWriter.format(value)) \(unit) is outside \(JSONWriter.format(range.lowerBound))…\(JSONWriter.format(range.upperBound)) \(unit)")
        }
        return .success(value)
    }
}
