import Foundation

/// A received JSON object read field by field with typed, named errors: a wrong
/// type is a `PayloadError` naming the field, never a silent default. JSON
/// `null` counts as absent. Booleans are not numbers (Foundation would say they are).
public struct JSONObject {
    public let fields: [String: Any]

    public init(_ bytes: [UInt8]) throws(PayloadError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw .notAnObject
        }
        fields = object
    }

    private func present(_ key: String) -> Any? {
        guard let v = fields[key], !(v is NSNull) else { return nil }
        return v
    }

    /// JSONSerialization boxes `true` as an NSNumber whose ObjC type is `c` (char);
    /// `v is Bool` would also say yes for the numbers 0 and 1.
    private func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    /// Fails on the first key not in `allowed` (sorted, so the message is stable).
    public func rejectUnknown(allowed: Set<String>) throws(PayloadError) {
        if let unknown = fields.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw .invalidField(Excerpt.of(unknown), reason: "unknown field")
        }
    }

    public func number(_ key: String) throws(PayloadError) -> Double? {
        guard let v = present(key) else { return nil }
        guard let n = v as? NSNumber, !isBool(v) else { throw .invalidField(key, reason: "must be a number") }
        guard n.doubleValue.isFinite else { throw .invalidField(key, reason: "must be a finite number") }
        return n.doubleValue
    }

    public func int(_ key: String) throws(PayloadError) -> Int? {
        guard let d = try number(key) else { return nil }
        guard d == d.rounded(), abs(d) < 9e15 else { throw .invalidField(key, reason: "must be a whole number") }
        return Int(d)
    }

    public func bool(_ key: String) throws(PayloadError) -> Bool? {
        guard let v = present(key) else { return nil }
        guard isBool(v), let b = v as? Bool else { throw .invalidField(key, reason: "must be true or false") }
        return b
    }

    public func string(_ key: String) throws(PayloadError) -> String? {
        guard let v = present(key) else { return nil }
        guard let s = v as? String else { throw .invalidField(key, reason: "must be a string") }
        return s
    }

    public func time(_ key: String) throws(PayloadError) -> Date? {
        guard let s = try string(key) else { return nil }
        guard let t = ISO8601.parse(s) else { throw .invalidField(key, reason: "must be an ISO 8601 time with offset") }
        return t.date
    }

    public func requiredString(_ key: String) throws(PayloadError) -> String {
        guard let s = try string(key) else { throw .missingField(key) }
        return s
    }

    public func requiredBool(_ key: String) throws(PayloadError) -> Bool {
        guard let b = try bool(key) else { throw .missingField(key) }
        return b
    }

    public func requiredTime(_ key: String) throws(PayloadError) -> Date {
        guard let t = try time(key) else { throw .missingField(key) }
        return t
    }
}
