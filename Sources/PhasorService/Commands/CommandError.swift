import Foundation
import PhasorCore

/// A refused operator command: published on `…/error/<service>` (never retained)
/// and logged, naming the topic, the field and the reason.
///
/// Every text here is bounded (see `Excerpt`): refusals quote at most a short
/// excerpt of what was sent, however large the command.
public struct CommandError: Error, Equatable, Sendable, CustomStringConvertible {
    public var topic: String
    public var field: String
    public var reason: String
    public var payload: String

    /// Bounds of the texts, in bytes of UTF-8. Reasons quote values as 64-byte
    /// excerpts; the limit on the whole reason is a last guard.
    static let topicLimit = 256
    static let fieldLimit = Excerpt.quoted
    static let reasonLimit = 256

    public init(topic: String, field: String, reason: String, payload: String) {
        self.topic = Excerpt.of(topic, maxBytes: Self.topicLimit)
        self.field = Excerpt.of(field, maxBytes: Self.fieldLimit)
        self.reason = Excerpt.of(reason, maxBytes: Self.reasonLimit)
        self.payload = Excerpt.of(payload, maxBytes: Excerpt.payload)
    }

    public init(topic: String, field: String, reason: String, payload: [UInt8]) {
        self.init(topic: topic, field: field, reason: reason, payload: Excerpt.of(payload, maxBytes: Excerpt.payload))
    }

    /// The refusal of a command that was published retained: it would be applied
    /// again at every restart or reconnect, over what happened since.
    public static func retained(topic: String, payload: [UInt8]) -> CommandError {
        CommandError(topic: topic, field: "retain",
                     reason: "retained commands are refused: publish without retain (clear this one with an empty retained message)",
                     payload: payload)
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
/// Every number is one (`0` and `1` too); `true`/`false` are not.
public enum NumericCommand {
    public static func parse(
        _ payload: [UInt8], topic: String, field: String, range: ClosedRange<Double>, unit: String
    ) -> Result<Double, CommandError> {
        let text = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        func fail(_ reason: String) -> Result<Double, CommandError> {
            .failure(CommandError(topic: topic, field: field, reason: reason, payload: payload))
        }
        var number = Double(text)
        if number == nil, text.hasPrefix("{") {
            switch ValueObject.read(payload, kind: "number", { o throws(PayloadError) in try o.number("value") }) {
            case .success(let value): number = value
            case .failure(let refusal): return fail(refusal.reason)
            }
        }
        guard let value = number else { return fail("expected a number in \(unit), got '\(Excerpt.of(text))'") }
        guard value.isFinite else { return fail("must be a finite number") }
        guard range.contains(value) else {
            return fail("\(JSONWriter.format(value)) \(unit) is outside \(JSONWriter.format(range.lowerBound))…\(JSONWriter.format(range.upperBound)) \(unit)")
        }
        return .success(value)
    }
}

/// The JSON form of a command, `{"value": …}`: one field, read by `read`.
enum ValueObject {
    struct Refusal: Error { var reason: String }

    static func read<T>(_ payload: [UInt8], kind: String, _ read: (JSONObject) throws(PayloadError) -> T?) -> Result<T, Refusal> {
        do throws(PayloadError) {
            let object = try JSONObject(payload)
            try object.rejectUnknown(allowed: ["value"])
            guard let value = try read(object) else { return .failure(Refusal(reason: "'value' is missing")) }
            return .success(value)
        } catch .notAnObject {
            return .failure(Refusal(reason: "payload is neither a \(kind) nor a JSON object"))
        } catch .invalidField(let key, let reason) {
            return .failure(Refusal(reason: key == "value" ? "'value' \(reason)" : "\(reason): '\(key)'"))
        } catch {
            return .failure(Refusal(reason: "\(error)"))
        }
    }
}
