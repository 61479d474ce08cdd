import Foundation
import PhasorCore

/// Reads a command payload that names one of a fixed set of words: plain
/// (`solar`), a JSON string (`"solar"`) or `{"value": "solar"}`.
public enum ChoiceCommand {
    public static func parse(
        _ payload: [UInt8], topic: String, field: String, allowed: [String]
    ) -> Result<String, CommandError> {
        let text = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        func fail(_ reason: String) -> Result<String, CommandError> {
            .failure(CommandError(topic: topic, field: field, reason: reason, payload: payload))
        }
        var word = text
        if text.hasPrefix("{") {
            switch ValueObject.read(payload, kind: "word", { o throws(PayloadError) in try o.string("value") }) {
            case .success(let value): word = value
            case .failure(let refusal): return fail(refusal.reason)
            }
        } else if text.hasPrefix("\"") {
            guard let value = try? JSONSerialization.jsonObject(with: Data(payload), options: .fragmentsAllowed) as? String else {
                return fail("payload is neither a word nor a JSON string")
            }
            word = value
        }
        guard allowed.contains(word) else {
            return fail("'\(Excerpt.of(word))' is not one of \(allowed.joined(separator: ", "))")
        }
        return .success(word)
    }
}
