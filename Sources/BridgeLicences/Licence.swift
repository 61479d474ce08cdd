import Foundation
import PhasorCore

/// A licence's fields. Its signed form is canonical text (`canonicalBytes`): a
/// version line, the key id, then one `name=value` line per field in a fixed order,
/// so there is exactly one byte sequence per licence and nothing to normalise
/// before verifying.
public struct Licence: Sendable, Hashable {
    public static let version = "phasor-licence-v1"

    public var id: String
    public var customer: String
    /// The machines it is for (`MachineSerial`); empty is refused.
    public var serials: [String]
    public var tier: String
    /// Features on top of the tier's.
    public var features: [String]
    public var maxDevices: Int
    public var maxChargePoints: Int
    public var cloud: Bool
    public var issued: Date
    public var notBefore: Date
    /// Nil: perpetual.
    public var expires: Date?
    public var graceDays: Int

    public init(id: String, customer: String, serials: [String], tier: String, features: [String] = [], maxDevices: Int,
                maxChargePoints: Int, cloud: Bool, issued: Date, notBefore: Date, expires: Date?, graceDays: Int) {
        self.id = id
        self.customer = customer
        self.serials = serials
        self.tier = tier
        self.features = features
        self.maxDevices = maxDevices
        self.maxChargePoints = maxChargePoints
        self.cloud = cloud
        self.issued = issued
        self.notBefore = notBefore
        self.expires = expires
        self.graceDays = graceDays
    }

    static let fieldNames = ["id", "customer", "serials", "tier", "features", "max_devices", "max_charge_points", "cloud",
                             "issued", "not_before", "expires", "grace_days"]

    public static func time(_ d: Date) -> String {
        // Whole seconds, UTC: what a person reads and what parses back to the same bytes.
        MeterTimestamp(date: Date(timeIntervalSince1970: d.timeIntervalSince1970.rounded(.down)), utcOffsetSeconds: 0).iso8601
    }

    var values: [String] {
        [id, customer, serials.joined(separator: ","), tier, features.sorted().joined(separator: ","), String(maxDevices),
         String(maxChargePoints), cloud ? "true" : "false", Self.time(issued), Self.time(notBefore),
         expires.map(Self.time) ?? "never", String(graceDays)]
    }

    /// The bytes the signature covers: `phasor-licence-v1`, `key_id=…`, the fields.
    public func canonicalBytes(keyID: String) -> [UInt8] {
        var text = "\(Self.version)\nkey_id=\(keyID)\n"
        for (name, value) in zip(Self.fieldNames, values) { text += "\(name)=\(value)\n" }
        return Array(text.utf8)
    }

    /// Nil when every field can be written on one line and read back the same, else why not.
    public var problem: String? {
        for (name, value) in zip(Self.fieldNames, values) where value.contains("\n") || value.contains("\r") {
            return "\(name) holds a line break"
        }
        if serials.isEmpty || serials.contains(where: { $0.isEmpty || $0.contains(",") }) { return "serials: give one or more serial numbers" }
        if features.contains(where: { $0.isEmpty || $0.contains(",") }) { return "features: names without commas" }
        if id.isEmpty { return "id is empty" }
        if tier.isEmpty { return "tier is empty" }
        if maxDevices < 0 || maxChargePoints < 0 || graceDays < 0 { return "limits and grace days are 0 or more" }
        if let expires, expires <= notBefore { return "expires is not after not_before" }
        return nil
    }

    /// Reads canonical text back; any deviation (order, unknown or missing field,
    /// a value that would print differently) is refused.
    static func parse(_ bytes: [UInt8]) throws(LicenceRefusal) -> (licence: Licence, keyID: String) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.last == "" else { throw .malformed("the signed text does not end with a line break") }
        lines.removeLast()
        guard lines.first == version else {
            throw .malformed("first line is '\(Excerpt.of(lines.first ?? ""))', expected '\(version)' (a newer format?)")
        }
        guard lines.count == 2 + fieldNames.count else { throw .malformed("\(lines.count - 2) fields, expected \(fieldNames.count)") }
        func value(_ line: String, _ name: String) throws(LicenceRefusal) -> String {
            guard line.hasPrefix(name + "=") else { throw .malformed("expected '\(name)=…', found '\(Excerpt.of(line))'") }
            return String(line.dropFirst(name.count + 1))
        }
        let keyID = try value(lines[1], "key_id")
        var v: [String] = []
        for (line, name) in zip(lines.dropFirst(2), fieldNames) { v.append(try value(line, name)) }
        func date(_ s: String, _ name: String) throws(LicenceRefusal) -> Date {
            guard let d = ISO8601.parse(s)?.date else { throw .malformed("\(name) '\(Excerpt.of(s))' is not a time") }
            return d
        }
        func int(_ s: String, _ name: String) throws(LicenceRefusal) -> Int {
            guard let i = Int(s), i >= 0 else { throw .malformed("\(name) '\(Excerpt.of(s))' is not a whole number") }
            return i
        }
        guard v[7] == "true" || v[7] == "false" else { throw .malformed("cloud must be true or false") }
        let licence = Licence(
            id: v[0], customer: v[1], serials: v[2].split(separator: ",").map(String.init), tier: v[3],
            features: v[4].split(separator: ",").map(String.init), maxDevices: try int(v[5], "max_devices"),
            maxChargePoints: try int(v[6], "max_charge_points"), cloud: v[7] == "true", issued: try date(v[8], "issued"),
            notBefore: try date(v[9], "not_before"), expires: v[10] == "never" ? nil : try date(v[10], "expires"),
            graceDays: try int(v[11], "grace_days"))
        guard licence.canonicalBytes(keyID: keyID) == bytes else { throw .malformed("not in canonical form") }
        if let problem = licence.problem { throw .malformed(problem) }
        return (licence, keyID)
    }
}

/// Why a licence is refused, in words an installer can act on.
public enum LicenceRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(String)
    case unknownKey(String)
    case badSignature
    case otherMachine(licensed: [String], this: String)
    case notYetValid(Date)
    case expired(Date)

    public var description: String {
        switch self {
        case .malformed(let why): "not a licence file: \(why)"
        case .unknownKey(let id): "signed with key '\(id)', which this box does not trust"
        case .badSignature: "the signature does not match: the file was altered or forged"
        case .otherMachine(let licensed, let this): "issued for \(licensed.joined(separator: ", ")), this box is \(this)"
        case .notYetValid(let d): "not valid before \(Licence.time(d))"
        case .expired(let d): "expired on \(Licence.time(d)), grace period over"
        }
    }

    /// A short code for the `licence` topic.
    public var code: String {
        switch self {
        case .malformed: "malformed"
        case .unknownKey: "unknown_key"
        case .badSignature: "bad_signature"
        case .otherMachine: "other_machine"
        case .notYetValid: "not_yet_valid"
        case .expired: "expired"
        }
    }
}
