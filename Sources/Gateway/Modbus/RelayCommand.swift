import Foundation
import Modbus
import PhasorCore
import PhasorService

/// `…/relay/<id>/command`: `on`/`off` (also `true`/`false`, `1`/`0`) or `{"on": true}`.
enum RelayCommand {
    static func parse(_ payload: [UInt8], topic: String) -> Result<RelayConfig.State, CommandError> {
        let text = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        switch text.lowercased() {
        case "on", "true", "1": return .success(.on)
        case "off", "false", "0": return .success(.off)
        default: break
        }
        func fail(_ reason: String) -> Result<RelayConfig.State, CommandError> {
            .failure(CommandError(topic: topic, field: "on", reason: reason, payload: payload))
        }
        do {
            let object = try JSONObject(payload)
            try object.rejectUnknown(allowed: ["on"])
            guard let on = try object.bool("on") else { return fail("is missing") }
            return .success(on ? .on : .off)
        } catch {
            return fail(text.hasPrefix("{") ? "\(error)" : "expected on, off or {\"on\": true|false}")
        }
    }
}

/// `…/relay/<id>/state` (gateway, retained).
struct RelayStatePayload {
    var id: String
    var on: Bool
    var time: Date
    /// `command`, `default` (at start) or `fallback` (control went offline).
    var source: String
    var simulated: Bool

    func encode() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.value(id)
        w.key("on"); w.value(on)
        w.key("time"); w.value(MeterTimestamp(date: time, utcOffsetSeconds: 0).iso8601)
        w.key("source"); w.value(source)
        w.key("simulated"); w.value(simulated)
        w.endObject()
        return w.bytes
    }
}
