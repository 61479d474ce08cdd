import Foundation
import Modbus
import PhasorCore
import PhasorService

/// `…/inverter/<id>/setpoint` (control → gateway, never retained):
/// `{"active_power_limit_w": 4000, "battery_max_charge_w": 2500, "battery_max_discharge_w": 0,
///   "valid_s": 60, "sequence": 12, "reason": "export: curtailed"}`. Every limit is optional
/// (at least one); `active_power_limit_w: null` lifts the limit (the rated power).
struct InverterSetpointPayload: Equatable {
    /// The limits to write, W, in wire order; the rated power stands for a null limit.
    var values: [(field: String, watts: Double)]
    var validS: Double?
    var sequence: Int?
    var reason: String?

    static func == (a: Self, b: Self) -> Bool {
        a.values.map(\.field) == b.values.map(\.field) && a.values.map(\.watts) == b.values.map(\.watts)
            && a.validS == b.validS && a.sequence == b.sequence && a.reason == b.reason
    }

    static let fields = ["active_power_limit_w", "battery_max_charge_w", "battery_max_discharge_w"]
}

/// Decides whether an inverter setpoint may be written: its shape, the fields this
/// device takes, the ranges of the site's ratings. Pure.
struct InverterSetpointValidator {
    let fields: [String]
    let limits: InverterSetpointLimits

    func validate(_ payload: [UInt8], topic: String, deviceOnline: Bool) -> Result<InverterSetpointPayload, CommandError> {
        func refuse(_ field: String, _ reason: String) -> Result<InverterSetpointPayload, CommandError> {
            .failure(CommandError(topic: topic, field: field, reason: reason, payload: payload))
        }
        let object: JSONObject
        do {
            object = try JSONObject(payload)
            try object.rejectUnknown(allowed: Set(InverterSetpointPayload.fields + ["valid_s", "sequence", "reason"]))
        } catch {
            if case .invalidField(let field, let reason) = error { return refuse(field, reason) }
            return refuse("active_power_limit_w", "expected a JSON object with active_power_limit_w, battery_max_charge_w and/or battery_max_discharge_w (W)")
        }
        var out = InverterSetpointPayload(values: [])
        let format = JSONWriter.format
        do {
            for field in InverterSetpointPayload.fields where object.fields[field] != nil {
                guard fields.contains(field) else { return refuse(field, "this device's profile has no register for it") }
                guard let max = limits.maximum(field) else { return refuse(field, "no rating configured for it") }
                guard let watts = try object.number(field) else {
                    // null: no limit, which only the active-power limit has.
                    guard field == "active_power_limit_w" else { return refuse(field, "must be a number (W)") }
                    out.values.append((field, max))
                    continue
                }
                guard watts >= 0 else { return refuse(field, "\(format(watts)) W is negative") }
                guard watts <= max else {
                    return refuse(field, "\(format(watts)) W is above this device's rating of \(format(max)) W")
                }
                out.values.append((field, watts))
            }
            out.validS = try object.number("valid_s")
            out.sequence = try object.int("sequence")
            out.reason = try object.string("reason")
        } catch {
            if case .invalidField(let field, let reason) = error { return refuse(field, reason) }
            return refuse("active_power_limit_w", "\(error)")
        }
        guard !out.values.isEmpty else {
            return refuse("active_power_limit_w", "no limit given: send active_power_limit_w, battery_max_charge_w or battery_max_discharge_w")
        }
        if let v = out.validS, !(v >= 5 && v <= 3600) { return refuse("valid_s", "\(format(v)) s: use 5…3600") }
        guard deviceOnline else { return refuse(out.values[0].field, "the inverter is offline (not answering); nothing written") }
        return .success(out)
    }
}

/// `…/inverter/<id>/applied` (gateway, retained).
struct InverterAppliedPayload {
    enum Result: String { case applied, refused, failed, fallback }
    var time: Date
    var result: Result
    var values: [(field: String, watts: Double)] = []
    var sequence: Int?
    var validUntil: Date?
    var reason: String?

    func encode() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("time"); w.value(MeterTimestamp(date: time, utcOffsetSeconds: 0).iso8601)
        w.key("result"); w.value(result.rawValue)
        for (field, watts) in values { w.key(field); w.value(watts) }
        if let sequence { w.key("sequence"); w.value(sequence) }
        if let validUntil { w.key("valid_until"); w.value(MeterTimestamp(date: validUntil, utcOffsetSeconds: 0).iso8601) }
        if let reason { w.key("reason"); w.value(reason) }
        w.endObject()
        return w.bytes
    }
}
