/// A short, valid UTF-8 excerpt of text that came from outside (a command's
/// payload, a field name, a topic level), for error messages and log lines: a
/// 1 MB command must not become a 1 MB error message or log line.
public enum Excerpt {
    /// What refusals quote of a value they name.
    public static let quoted = 64
    /// The `payload` field of an error message.
    public static let payload = 128

    /// `text` itself when it fits in `maxBytes` bytes of UTF-8; otherwise its
    /// longest prefix of whole Unicode scalars that fits, marked as cut with
    /// `…` and the full size (`abc… (1048576 bytes)`).
    public static func of(_ text: String, maxBytes: Int = quoted) -> String {
        let total = text.utf8.count
        return total > maxBytes ? cut(text, maxBytes: maxBytes, total: total) : text
    }

    /// The bytes decoded as UTF-8 (invalid bytes become U+FFFD), then cut as above.
    /// Decodes only the head an excerpt needs, not the whole payload.
    public static func of(_ bytes: [UInt8], maxBytes: Int = quoted) -> String {
        guard bytes.count > maxBytes else { return String(decoding: bytes, as: UTF8.self) }
        return cut(String(decoding: bytes.prefix(maxBytes), as: UTF8.self), maxBytes: maxBytes, total: bytes.count)
    }

    private static func cut(_ text: String, maxBytes: Int, total: Int) -> String {
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            bytes += String(scalar).utf8.count
            guard bytes <= maxBytes else { break }
            kept.append(scalar)
        }
        return String(kept) + "… (\(total) bytes)"
    }
}
