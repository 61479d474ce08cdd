import Foundation
import Modbus
import PhasorCore

/// A simulated inverter's response to its `setpoints` registers: a written limit applies
/// after `responseSeconds` (real inverters ramp over a second or more), then caps the PV
/// output (active-power limit) and the battery's charge and discharge power.
public struct InverterControlModel: Sendable {
    /// The ratings a `percent` register is a share of, W, by wire field.
    public var ratings: [String: Double]
    public var responseSeconds: Double
    /// Limits in force, W, by wire field (`active_power_limit_w`…); absent = none.
    public private(set) var applied: [String: Double] = [:]
    private var pending: [String: (watts: Double, at: Date)] = [:]

    public init(ratings: [String: Double] = ["active_power_limit_w": 10_000], responseSeconds: Double = 1.5) {
        self.ratings = ratings
        self.responseSeconds = responseSeconds
    }

    mutating func written(_ field: String, raw: Double, unit: SetpointPoint.Unit, now: Date) {
        let watts = unit == .percent ? raw / 100 * (ratings[field] ?? 10_000) : raw
        if pending[field]?.watts == watts || (pending[field] == nil && applied[field] == watts) { return }
        pending[field] = (watts, now + responseSeconds)
    }

    /// The limits in force at `now` (pending ones whose response time has passed applied).
    public mutating func advance(to now: Date) {
        for (field, p) in pending where p.at <= now {
            applied[field] = p.watts
            pending[field] = nil
        }
    }

    /// The model's values with the limits in force.
    func limit(_ v: inout [Quantity: Double]) {
        let pv = v[.pvPower] ?? 0
        var battery = v[.batteryPower] ?? 0
        let limitedPV = min(pv, applied["active_power_limit_w"] ?? .infinity)
        if let c = applied["battery_max_charge_w"] { battery = max(battery, -c) }
        if let d = applied["battery_max_discharge_w"] { battery = min(battery, d) }
        // The grid sees what PV and battery no longer give.
        if let grid = v[.power] { v[.power] = grid + (pv - limitedPV) + ((v[.batteryPower] ?? 0) - battery) }
        v[.pvPower] = limitedPV
        if v[.batteryPower] != nil { v[.batteryPower] = battery }
        if v[.inverterPower] != nil { v[.inverterPower] = limitedPV + battery }
    }
}
