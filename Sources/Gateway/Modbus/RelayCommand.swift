import Foundation
import Modbus
import PhasorCore
import PhasorService

/// `…/relay/<id>/command`: `on`/`off` (also `true`/`false`, `1`/`0`) or
/// `{"on": true, "sequence": 7}` (the sequence, optional, comes back on `…/applied`).
struct RelayCommand: Equatable {
    var state: RelayConfig.State
    var sequence: UInt64?

    static func parse(_ payload: [UInt8], topic: String) -> Result<RelayCommand, CommandError> {
        let text = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        switch text.lowercased() {
        case "on", "true", "1": return .success(RelayCommand(state: .on))
        case "off", "false", "0": return .success(RelayCommand(state: .off))
        default: break
        }
        func fail(_ field: String, _ reason: String) -> Result<RelayCommand, CommandError> {
            .failure(CommandError(topic: topic, field: field, reason: reason, payload: payload))
        }
        do {
            let object = try JSONObject(payload)
            try object.rejectUnknown(allowed: ["on", "sequence"])
            let sequence = try object.int("sequence")
            if let sequence, sequence < 0 { return fail("sequence", "must not be negative") }
            guard let on = try object.bool("on") else { return fail("on", "is missing") }
            return .success(RelayCommand(state: on ? .on : .off, sequence: sequence.map { UInt64($0) }))
        } catch {
            return fail("on", text.hasPrefix("{") ? "\(error)" : "expected on, off or {\"on\": true|false}")
        }
    }
}

/// `…/relay/<id>/applied` (gateway, retained): what the gateway did with the latest
/// command — `applied` (written; the state topic shows it), `refused` (not written: the
/// reason says why, the same refusal is on `error/gateway`) or `failed` (the device did
/// not take the write).
struct RelayAppliedPayload {
    enum Result: String { case applied, refused, failed }
    var id: String
    var time: Date
    var result: Result
    /// The state commanded (nil when the command could not be read).
    var on: Bool?
    var sequence: UInt64?
    var reason: String?

    func encode() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.value(id)
        w.key("time"); w.value(MeterTimestamp(date: time, utcOffsetSeconds: 0).iso8601)
        w.key("result"); w.value(result.rawValue)
        if let on { w.key("on"); w.value(on) }
        if let sequence { w.key("sequence"); w.value(Int(sequence)) }
        if let reason { w.key("reason"); w.value(reason) }
        w.endObject()
        return w.bytes
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
