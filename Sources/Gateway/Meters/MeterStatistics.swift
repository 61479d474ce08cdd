import Foundation
import MeterIO
import PhasorCore

/// Counters of one meter, published retained on `…/meter/<id>/stats` (schema:
/// schemas/meter-stats.schema.json) so an installer sees at a glance whether the
/// line is clean.
struct MeterStatistics: Sendable {
    /// Telegrams (P1) or frames (TIC) published.
    var telegramsOK = 0
    /// P1 telegrams dropped whole for a CRC mismatch.
    var badCRC = 0
    /// TIC groups dropped for a bad checksum (alone, or with their whole frame).
    var badChecksum = 0
    /// Telegrams rejected for another reason (no CRC where required, Smarty frame
    /// that does not decrypt, frame with no valid group).
    var otherErrors = 0
    var lastTelegram: Date?
    var sourceConnected = false
    /// The source as last opened (`/dev/ttyAMA0 9600 7E1`).
    var sourceDescription = ""
    /// How often the source (re)opened.
    var sourceOpens = 0

    func payload(device: String, at now: Date, framingErrors: Int, available: Bool?,
                 split: FanOutServer.Statistics?) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("device"); w.value(device)
        w.key("time"); w.value(ISO8601.format(now, utcOffsetSeconds: 0))
        w.key("telegrams_ok"); w.value(telegramsOK)
        w.key("bad_crc"); w.value(badCRC)
        w.key("bad_checksum"); w.value(badChecksum)
        w.key("other_errors"); w.value(otherErrors + framingErrors)
        w.key("last_telegram_age_s"); w.optional(lastTelegram.map { (now.timeIntervalSince($0) * 1000).rounded() / 1000 })
        w.key("available"); w.optional(available)
        w.key("source"); w.value(sourceDescription)
        w.key("source_connected"); w.value(sourceConnected)
        w.key("source_opens"); w.value(sourceOpens)
        if let split {
            w.key("split_clients"); w.value(split.connectedClients)
            w.key("split_dropped_clients"); w.value(split.droppedSlowClients)
        }
        w.endObject()
        return w.bytes
    }
}
