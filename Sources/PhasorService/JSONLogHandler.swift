import Foundation
import Logging
import PhasorCore

/// One JSON object per line on stderr (`logging.format: json`, `--log-format json`),
/// for journald/Loki/Elastic pipelines: `time`, `level`, `label`, `message`,
/// `source`, then every metadata key as a string.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        FileHandle.standardError.write(Data(Self.line(event, label: label, context: metadata, now: Date())))
    }

    /// The line for one event (with its newline), `context` under the event's own metadata.
    static func line(_ event: LogEvent, label: String, context: Logger.Metadata, now: Date) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("time"); w.value(ISO8601.format(now, utcOffsetSeconds: 0))
        w.key("level"); w.value(event.level.rawValue)
        w.key("label"); w.value(label)
        w.key("message"); w.value(event.message.description)
        w.key("source"); w.value(event.source)
        let merged = context.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() where !["time", "level", "label", "message", "source"].contains(key) {
            w.key(key); w.value(merged[key].map { "\($0)" } ?? "")
        }
        w.endObject()
        return w.bytes + [UInt8(ascii: "\n")]
    }
}

public enum LogFormat: String, Decodable, Sendable, CaseIterable {
    case text, json
}
