import Foundation

extension HousePlanner {
    /// The battery's limits and the inverter's export limit, after the loads took their share.
    func stepStorage(_ next: inout HouseState, _ decision: inout HouseDecision, inputs: HouseInputs, batterySurplusW: Double,
                     releasedW: Double) {
        let root = inputs.nodes.first
        let rootLimit = root.map(\.limit)
        if let b = config.battery, b.steered {
            var s = next.battery ?? BatteryPlannerState()
            if let w = inputs.batteryW, let soc = inputs.batterySoC {
                decision.battery = BatteryPlanner.step(&s, config: b, inputs: BatteryPlanner.Inputs(
                    now: inputs.now, gridW: inputs.measuredGridW, batteryW: w, soc: soc, carsW: inputs.carsW,
                    surplusW: inputs.gridPowerW == nil ? 0 : batterySurplusW, budget: inputs.budget, rootLimit: rootLimit,
                    rootCurrents: inputs.measuredRootCurrents, voltage: model.voltage,
                    breakerMarginA: model.timing.breakerMarginA, batteryTime: inputs.batteryTime))
            }
            next.battery = s
        }
        if let e = config.exportLimit {
            // What the battery stops charging when its limit falls below its charging now.
            let battery = decision.battery.map { max(0, -(inputs.batteryW ?? 0) - $0.maxChargeW) } ?? 0
            var s = next.exportLimiter ?? ExportLimiterState()
            decision.exportLimit = ExportLimiter.step(&s, config: e, inputs: ExportLimiter.Inputs(
                now: inputs.now, gridW: inputs.measuredGridW, inverterW: inputs.inverterW,
                rootCurrents: inputs.measuredRootCurrents, rootLimit: rootLimit, voltage: model.voltage,
                releasedW: releasedW + battery))
            next.exportLimiter = s
        }
    }
}

/// One inverter's setpoint as control sends it (`inverter/<id>/setpoint`).
public struct InverterSetpoint: Sendable, Equatable {
    public var device: String
    /// Active-power limit, W; nil in `hasPowerLimit` = no limit (the rated power).
    public var activePowerLimitW: Double?
    public var hasPowerLimit: Bool
    public var batteryMaxChargeW: Double?
    public var batteryMaxDischargeW: Double?
    public var reason: String

    public init(device: String, activePowerLimitW: Double? = nil, hasPowerLimit: Bool = false,
                batteryMaxChargeW: Double? = nil, batteryMaxDischargeW: Double? = nil, reason: String = "") {
        self.device = device
        self.activePowerLimitW = activePowerLimitW
        self.hasPowerLimit = hasPowerLimit
        self.batteryMaxChargeW = batteryMaxChargeW
        self.batteryMaxDischargeW = batteryMaxDischargeW
        self.reason = reason
    }
}

extension HouseDecision {
    /// The setpoints per inverter: the export limit and the battery's limits, one message
    /// per device (a hybrid inverter takes both).
    public func inverterSetpoints(config: HouseConfig) -> [InverterSetpoint] {
        var out: [InverterSetpoint] = []
        if let e = config.exportLimit, let d = exportLimit {
            out.append(InverterSetpoint(device: e.inverter, activePowerLimitW: d.limitW, hasPowerLimit: true,
                                        reason: "export: \(d.reason)"))
        }
        if let b = config.battery, let l = battery {
            let reason = "battery: charge \(l.chargeReason), discharge \(l.dischargeReason)"
            if let i = out.firstIndex(where: { $0.device == b.setpointDevice }) {
                out[i].batteryMaxChargeW = l.maxChargeW
                out[i].batteryMaxDischargeW = l.maxDischargeW
                out[i].reason += "; " + reason
            } else {
                out.append(InverterSetpoint(device: b.setpointDevice, batteryMaxChargeW: l.maxChargeW,
                                            batteryMaxDischargeW: l.maxDischargeW, reason: reason))
            }
        }
        return out
    }
}
