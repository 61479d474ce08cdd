import Foundation

extension HouseInputs {
    /// The house step's inputs after the cars' decision, as control's engine builds them (and
    /// the plant simulations, so they run what the service runs):
    /// - the main connection's power with the loads just switched on counted (`pending`),
    ///   unknown while its meter is stale or a configured battery's reading is missing;
    /// - what solar-only cars were given, and whether any car waits for or is held down by
    ///   the quarter-hour budget (the loads ranked below the cars then give way), and what the
    ///   cars kept at their minimum by their minimum run time still draw in this quarter;
    /// - the cars' view of the main meter's currents (`forCars`), and the meter as it reads;
    /// - the battery's power, state of charge and the inverter's output, each nil when its
    ///   reading is missing or too old (the caller judges their age).
    public static func afterCars(
        _ decision: Decision, settings: ControlSettings, model: SiteModel, measurements: Measurements,
        forCars: Measurements, pending: [PendingLoad], now: Date, tariff: TariffSignals?,
        batteryW: Double?, batterySoC: Double?, inverterW: Double?
    ) -> HouseInputs {
        var rootMeter: String?
        if case .device(let id) = model.nodes[0].meter { rootMeter = id }
        let batteryStale = model.house?.battery != nil && batteryW == nil
        var rootPower: Double?
        if decision.budget.meterFresh, !batteryStale, let id = rootMeter {
            // A load just switched on counts before the meter shows it: its power is not surplus twice.
            rootPower = PendingLoads.apply(measurements, model: model, pending: pending).meters[id]?.power
        }
        var solarCars = 0.0
        var shortOfBudget = false
        var held = 0.0
        let rest = max(1, decision.budget.quarterEnd.timeIntervalSince(now))
        for (i, sp) in decision.setpoints.enumerated() {
            let mode = settings.modes[model.chargePoints[i].id] ?? model.chargePoints[i].mode
            if mode == .solar { solarCars += sp.power }
            switch sp.reason {
            case .waitingForPower(.budget), .limitedBy(.budget), .stopped(.budget): shortOfBudget = true
            case .keptAtMinimum(.budget, let until):
                shortOfBudget = true
                held += sp.power * min(rest, max(0, until.timeIntervalSince(now))) / rest
            default: break
            }
        }
        var carsW = 0.0
        for (_, c) in measurements.chargers where c.online { carsW += ((c.currents ?? .zero) * model.voltage).sum() }
        let root = rootMeter.flatMap { measurements.meters[$0] }
        return HouseInputs(
            now: now, gridPowerW: rootPower, solarCarsW: solarCars, carsShortOfBudget: shortOfBudget, carsHeldW: held,
            budget: decision.budget, nodes: decision.nodes, tariff: tariff, batteryW: batteryW,
            rootCurrents: rootMeter.flatMap { forCars.meters[$0]?.currents }, batterySoC: batterySoC,
            inverterW: inverterW, carsW: carsW,
            measuredGridW: decision.budget.meterFresh ? root?.power : nil,
            measuredRootCurrents: decision.budget.meterFresh ? root?.currents : nil)
    }
}
