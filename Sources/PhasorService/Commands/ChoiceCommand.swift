import Foundation

/// Reads a command payload that names one of a fixed set of words: plain
/// (`solar`), a JSON string (`"solar"`) or `{"value": "solar"}`.
public enum ChoiceCommand {
    public static func parse(
        _ payload: [UInt8], topic: String, field: String, allowed: [String]
    ) -> Result<String, CommandError> {
        let text = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        func fail(_ reason: String) -> Result<String, CommandError> {
            .failure(CommandError(topic: topic, field: field, reason: reason, payload: text))
        }
        var word = text
        if text.hasPrefix("{") || text.hasPrefix("\"") {
            guard let json = try? JSONSerialization.jsonObject(with: Data(payload), options: .fragmentsAllowed) else {
                return fail("payload is neither a word nor valid JSON")
            }
            if let object = json as? [String: Any] {
                let unknown = Set(object.keys).subtracting(["value"])
                if !unknown.isEmpty { return fail("unknown field(s): \(unknown.sorted().joined(separator: ", "))") }
                guard let value = object["value"] as? String else { return fail("'value' must be a string") }
                word = value
            } else if let value = json as? String {
                word = value
            } else {
                return fail("expected one of \(allowed.joined(separator: ", "))")
            }
        }
        guard allowed.contains(word) else {
            return fail("'\(word)' is not one of \(allowed.joined(separator: ", "))")
        }
        return .success(word)
    }
}
