import Foundation
import Modbus
import PhasorCore

/// `…/device/<id>/stats` (gateway, retained): a device's request counters as
/// `DeviceHealth` keeps them, so an installer sees a flaky bus without logs.
/// Schema: schemas/device-stats.schema.json.
struct DeviceStatsPayload {
    var id: String
    var time: Date
    var health: DeviceHealth

    func encode() -> [UInt8] {
        let s = health.statistics
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.value(id)
        w.key("time"); w.value(MeterTimestamp(date: time, utcOffsetSeconds: 0).iso8601)
        w.key("availability"); w.value(health.availability.rawValue)
        w.key("requests"); w.value(s.requests)
        w.key("errors"); w.value(s.errors)
        w.key("timeouts"); w.value(s.timeouts)
        w.key("exceptions"); w.value(s.exceptions)
        w.key("polls"); w.value(s.polls)
        w.key("failed_polls"); w.value(s.failedPolls)
        w.key("last_success_age_s"); w.optional(s.lastSuccessAge(now: time).map { ($0 * 1000).rounded() / 1000 })
        w.key("last_poll_ms"); w.optional(s.lastPollDuration.map { Self.milliseconds($0) })
        w.key("last_error"); w.optional(s.lastError.map { "\($0)" })
        w.endObject()
        return w.bytes
    }

    static func milliseconds(_ d: Duration) -> Double {
        let (seconds, attoseconds) = d.components
        return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 1000).rounded() / 1000
    }
}
