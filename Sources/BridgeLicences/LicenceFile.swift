import Crypto
import Foundation

/// A signed licence as a file: the canonical text, then `signature=<base64>`.
/// The same bytes in base64url on one line are the activation code a person pastes.
public struct LicenceFile: Sendable, Hashable {
    public var licence: Licence
    public var keyID: String
    public var signature: [UInt8]

    /// Signs `licence` (the vendor's side, and tests').
    public static func sign(_ licence: Licence, keyID: String, with key: Curve25519.Signing.PrivateKey) throws -> LicenceFile {
        if let problem = licence.problem { throw LicenceRefusal.malformed(problem) }
        guard !keyID.isEmpty, !keyID.contains("\n") else { throw LicenceRefusal.malformed("key id is empty") }
        let signature = try key.signature(for: licence.canonicalBytes(keyID: keyID))
        return LicenceFile(licence: licence, keyID: keyID, signature: Array(signature))
    }

    public var text: String {
        String(decoding: licence.canonicalBytes(keyID: keyID), as: UTF8.self) + "signature=\(Data(signature).base64EncodedString())\n"
    }

    /// The file on one line: base64url, no padding.
    public var activationCode: String { Self.base64url(Array(text.utf8)) }

    /// Reads a licence file or an activation code, and checks its signature with
    /// `keys` (key id → Ed25519 public key). Machine and dates are checked by `LicenceEvaluator`.
    public static func verify(_ input: String, keys: [String: Curve25519.Signing.PublicKey]) throws(LicenceRefusal) -> LicenceFile {
        var text = input.trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.hasPrefix(Licence.version) {
            guard let decoded = fromBase64url(text), let s = String(bytes: decoded, encoding: .utf8), s.hasPrefix(Licence.version) else {
                throw .malformed("neither a licence file nor an activation code")
            }
            text = s.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let cut = text.range(of: "\nsignature=", options: .backwards) else { throw .malformed("no signature line") }
        let signed = Array((text[..<cut.lowerBound] + "\n").utf8)
        let encoded = text[cut.upperBound...]
        guard let signature = Data(base64Encoded: String(encoded)), signature.count == 64 else {
            throw .malformed("the signature is not 64 bytes of base64")
        }
        let (licence, keyID) = try Licence.parse(signed)
        guard let key = keys[keyID] else { throw .unknownKey(keyID) }
        guard key.isValidSignature(signature, for: signed) else { throw .badSignature }
        return LicenceFile(licence: licence, keyID: keyID, signature: Array(signature))
    }

    /// A public key from its base64 form (the site file's `trusted_keys`).
    public static func publicKey(base64: String) -> Curve25519.Signing.PublicKey? {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespaces)) else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func fromBase64url(_ s: String) -> [UInt8]? {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        return Data(base64Encoded: b).map(Array.init)
    }
}
