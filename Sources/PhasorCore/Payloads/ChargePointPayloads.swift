import Foundation

/// The payloads exchanged between gateway and control about charge points: the
/// public contract of `…/chargepoint/<id>/state`, `…/setpoint` and `…/applied`
/// (schemas/chargepoint-*.schema.json). The charge point id is the gateway's
/// device id and the id of the charge point in control's site tree.

/// What a charge point is doing, whatever its brand or transport (IEC 61851 states).
public enum ChargePointStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// A: no vehicle.
    case disconnected
    /// B (and C1/D1): a vehicle is plugged in, not drawing current.
    case connected
    /// C2/D2: charging.
    case charging
    /// E/F or a fault code.
    case error
    /// The device reported a value its profile does not map.
    case unknown

    /// A car is plugged in (whether or not it draws current).
    public var vehiclePresent: Bool { self == .connected || self == .charging }
}

/// `…/chargepoint/<id>/state` (gateway, retained): the charger's latest poll plus
/// the limits of its profile, so control needs no profile files of its own.
public struct ChargePointStatePayload: Sendable, Hashable {
    public var id: String
    public var time: Date
    /// The gateway reaches the charger. `false`: the charger runs on its own safe current.
    public var online: Bool
    public var status: ChargePointStatus
    /// The state as the device reported it ("C2", "4"), for diagnostics.
    public var rawStatus: String?
    public var phasesInUse: Int?
    /// Currents on the charger's terminals L1…L3, A (`current_l1`…); nil where not measured.
    public var currents: [Double?]
    /// W, positive = charging.
    public var power: Double?
    /// Lifetime energy, kWh (`energy_import`).
    public var energyImport: Double?
    /// The limit the charger applies now, read back, A.
    public var currentLimit: Double?
    public var enabled: Bool?
    /// The gateway holds the safe current because control went quiet.
    public var fallbackActive: Bool
    public var minCurrent: Double
    public var maxCurrent: Double
    public var safeCurrent: Double
    /// Phases wired to the charger (1 or 3).
    public var phases: Int
    public var canSwitchPhases: Bool

    public init(
        id: String, time: Date, online: Bool, status: ChargePointStatus, rawStatus: String? = nil,
        phasesInUse: Int? = nil, currents: [Double?] = [nil, nil, nil], power: Double? = nil,
        energyImport: Double? = nil, currentLimit: Double? = nil, enabled: Bool? = nil, fallbackActive: Bool = false,
        minCurrent: Double = 6, maxCurrent: Double = 16, safeCurrent: Double = 6, phases: Int = 3,
        canSwitchPhases: Bool = false
    ) {
        self.id = id
        self.time = time
        self.online = online
        self.status = status
        self.rawStatus = rawStatus
        self.phasesInUse = phasesInUse
        self.currents = currents
        self.power = power
        self.energyImport = energyImport
        self.currentLimit = currentLimit
        self.enabled = enabled
        self.fallbackActive = fallbackActive
        self.minCurrent = minCurrent
        self.maxCurrent = maxCurrent
        self.safeCurrent = safeCurrent
        self.phases = phases
        self.canSwitchPhases = canSwitchPhases
    }

    public func encode(utcOffsetSeconds: Int = 0) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.value(id)
        w.key("time"); w.value(MeterTimestamp(date: time, utcOffsetSeconds: utcOffsetSeconds).iso8601)
        w.key("online"); w.value(online)
        w.key("status"); w.value(status.rawValue)
        w.key("raw_status"); w.optional(rawStatus)
        w.key("phases_in_use"); w.optional(phasesInUse)
        for phase in 1...3 {
            w.key(Quantity.current.phase(phase).rawValue)
            w.optional(phase <= currents.count ? currents[phase - 1] : nil)
        }
        w.key(Quantity.power.rawValue); w.optional(power)
        w.key(Quantity.energyImport.rawValue); w.optional(energyImport)
        w.key("current_limit"); w.optional(currentLimit)
        w.key("enabled"); w.optional(enabled)
        w.key("fallback_active"); w.value(fallbackActive)
        w.key("min_current"); w.value(minCurrent)
        w.key("max_current"); w.value(maxCurrent)
        w.key("safe_current"); w.value(safeCurrent)
        w.key("phases"); w.value(phases)
        w.key("can_switch_phases"); w.value(canSwitchPhases)
        w.endObject()
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> ChargePointStatePayload {
        let o = try JSONObject(bytes)
        var currents: [Double?] = []
        for phase in 1...3 { currents.append(try o.number(Quantity.current.phase(phase).rawValue)) }
        guard let statusText = try o.string("status"), let status = ChargePointStatus(rawValue: statusText) else {
            throw .invalidField("status", reason: "one of \(ChargePointStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return ChargePointStatePayload(
            id: try o.requiredString("id"), time: try o.requiredTime("time"), online: try o.requiredBool("online"),
            status: status, rawStatus: try o.string("raw_status"), phasesInUse: try o.int("phases_in_use"),
            currents: currents,
            power: try o.number(Quantity.power.rawValue), energyImport: try o.number(Quantity.energyImport.rawValue),
            currentLimit: try o.number("current_limit"), enabled: try o.bool("enabled"),
            fallbackActive: try o.bool("fallback_active") ?? false, minCurrent: try o.number("min_current") ?? 6,
            maxCurrent: try o.number("max_current") ?? 16, safeCurrent: try o.number("safe_current") ?? 6,
            phases: try o.int("phases") ?? 3, canSwitchPhases: try o.bool("can_switch_phases") ?? false)
    }
}

/// `…/chargepoint/<id>/setpoint` (control, retained): the current limit per phase
/// the charger must apply. Control republishes it every cycle, so a gateway that
/// hears nothing for its configured time knows control is gone.
public struct SetpointPayload: Sendable, Hashable {
    /// A per phase; 0 pauses charging.
    public var current: Double
    /// 1 or 3 where the charger can switch phases; nil = leave as is.
    public var phases: Int?
    /// Increases with every decision of one control process, so the gateway can
    /// report which decision it applied.
    public var sequence: UInt64?
    public var time: Date?
    /// Why control chose this value ("limited by panel garage, L2").
    public var reason: String?

    public init(current: Double, phases: Int? = nil, sequence: UInt64? = nil, time: Date? = nil, reason: String? = nil) {
        self.current = current
        self.phases = phases
        self.sequence = sequence
        self.time = time
        self.reason = reason
    }

    public func encode() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("current"); w.value(current)
        w.key("phases"); w.optional(phases)
        w.key("sequence"); if let sequence { w.value(Int(clamping: sequence)) } else { w.null() }
        w.key("time"); if let time { w.value(MeterTimestamp(date: time, utcOffsetSeconds: 0).iso8601) } else { w.null() }
        w.key("reason"); w.optional(reason)
        w.endObject()
        return w.bytes
    }

    /// A JSON object as above, or a plain number (an operator typing `10`).
    /// Type and shape are checked here; limits are the gateway's (per profile).
    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> SetpointPayload {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if let plain = Double(text) {
            guard plain.isFinite else { throw .invalidField("current", reason: "must be a finite number") }
            return SetpointPayload(current: plain)
        }
        let o = try JSONObject(bytes)
        try o.rejectUnknown(allowed: ["current", "phases", "sequence", "time", "reason"])
        guard let current = try o.number("current") else { throw .missingField("current") }
        let phases = try o.int("phases")
        if let phases, phases != 1 && phases != 3 { throw .invalidField("phases", reason: "must be 1 or 3") }
        let sequence = try o.int("sequence")
        if let sequence, sequence < 0 { throw .invalidField("sequence", reason: "must not be negative") }
        return SetpointPayload(
            current: current, phases: phases, sequence: sequence.map { UInt64($0) }, time: try o.time("time"),
            reason: try o.string("reason"))
    }
}

/// `…/chargepoint/<id>/applied` (gateway, retained): what the gateway did with
/// the latest setpoint (or on its own, for a fallback).
public struct AppliedPayload: Sendable, Hashable {
    public enum Result: String, Sendable, Hashable, CaseIterable {
        /// Written to the device.
        case applied
        /// Not written: invalid for this charger (the reason says why).
        case refused
        /// Written but the device did not accept it (timeout, exception).
        case failed
        /// The gateway applied the safe current on its own: control went quiet.
        case fallback
    }

    public var time: Date
    public var result: Result
    /// A written (or refused) per phase.
    public var current: Double?
    public var phases: Int?
    /// The setpoint's sequence number, when it came from a setpoint.
    public var sequence: UInt64?
    public var reason: String?

    public init(time: Date, result: Result, current: Double? = nil, phases: Int? = nil, sequence: UInt64? = nil,
                reason: String? = nil) {
        self.time = time
        self.result = result
        self.current = current
        self.phases = phases
        self.sequence = sequence
        self.reason = reason
    }

    public func encode() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("time"); w.value(MeterTimestamp(date: time, utcOffsetSeconds: 0).iso8601)
        w.key("result"); w.value(result.rawValue)
        w.key("current"); w.optional(current)
        w.key("phases"); w.optional(phases)
        w.key("sequence"); if let sequence { w.value(Int(clamping: sequence)) } else { w.null() }
        w.key("reason"); w.optional(reason)
        w.endObject()
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> AppliedPayload {
        let o = try JSONObject(bytes)
        guard let text = try o.string("result"), let result = Result(rawValue: text) else {
            throw .invalidField("result", reason: "one of \(Result.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return AppliedPayload(
            time: try o.requiredTime("time"), result: result, current: try o.number("current"),
            phases: try o.int("phases"), sequence: try o.int("sequence").map { UInt64(max(0, $0)) },
            reason: try o.string("reason"))
    }
}
