import Control
import Foundation
import PhasorCore
import Plant

/// The same household with the whole house steered (`--house`): an SG-Ready heat pump on
/// two relays, a boiler on a relay and a home battery whose charge and discharge limits
/// control writes, beside the EV. Control's cycle and the house planner closed-loop on the
/// plant and `HouseDevices` as the service runs them: a decision on every main-meter
/// reading (DSMR 5, every second), the inverter's report read at each decision, relay and
/// battery writes applied by the devices (the battery after its response time).
struct HouseYear {
    /// What the devices are and how control is configured for them.
    static let heatPump = HeatPumpConfig(
        relays: ["hp_sg0", "hp_sg1"], powerW: [.off: 0, .normal: 500, .comfort: 1500, .boost: 2500],
        comfortExportW: 1000, boostExportW: 2000, hysteresisW: 300)
    static let boiler = SurplusRelayConfig(
        id: "boiler", powerW: 2400, wiring: LoadWiring(phases: 1, phase: 3), hysteresisW: 400, minOnSeconds: 600,
        minOffSeconds: 600, timers: [TimerWindow(from: 2 * 60, to: 5 * 60)])
    static let battery = BatteryConfig(meter: "inverter", maxChargeW: 5000, maxDischargeW: 5000, minSoC: 10, maxSoC: 100)
    static func devices(pv: @escaping @Sendable (Date) -> Double) -> HouseDevicesConfig {
        HouseDevicesConfig(
            heatPump: .init(sg0: "hp_sg0", sg1: "hp_sg1", powerW: [0, 500, 1500, 2500]),
            boiler: .init(relay: "boiler", powerW: 2400, phase: 2, capacityWh: 8000, useW: 150),
            battery: .init(capacityWh: 10_000, maxChargeW: 5000, maxDischargeW: 5000, minSoC: 10, responseSeconds: 2),
            inverter: .init(pv: pv, responseSeconds: 2))
    }
    static let house = HouseConfig(heatPump: heatPump, relays: [boiler], battery: battery)
    /// The plant's load slots: 0 the household, 1 the house devices.
    static let devicesSlot = 1

    let model: SiteModel
    let planner: HousePlanner
    var plant: Plant
    var devices: HouseDevices
    var state: ControlState
    var houseState: HouseState
    var measurements = Measurements()
    var pending: [PendingLoad] = []
    /// Household power (without the devices), W, by time.
    let householdW: @Sendable (Date) -> Double
    private let mainMeter: String

    /// Tallies.
    var setpointChanges = 0
    /// Prints every decision in [trace, trace + traceSeconds) (`--trace`): what each load
    /// drew and what the budget and the battery planner thought.
    var trace: Date?
    var traceSeconds: TimeInterval = 900
    var batteryChargedWh = 0.0
    var batteryDischargedWh = 0.0
    private var lastSetpoint = 0.0

    init(model: SiteModel, plant: Plant, devices: HouseDevicesConfig, householdW: @escaping @Sendable (Date) -> Double) {
        self.model = model
        planner = HousePlanner(config: model.house!, model: model, preset: model.preset, timeZone: model.calendar.timeZone)
        self.plant = plant
        self.devices = HouseDevices(config: devices, start: plant.now, batterySoC: 50)
        state = ControlState(model: model)
        houseState = planner.initialState(now: plant.now)
        self.householdW = householdW
        if case .device(let id) = model.nodes[0].meter { mainMeter = id } else { mainMeter = "" }
    }

    /// Runs second by second until `end`.
    mutating func run(until end: Date) {
        var t = plant.now
        while t < end {
            t += 1
            let carW = (plant.draw(charger: 0) * Profiles.voltage).sum()
            devices.advance(to: t, houseW: householdW(t) + carW)
            plant.setLoad(Self.devicesSlot, base: devices.currents)
            for delivery in plant.advance(to: t) {
                switch delivery.output {
                case .charger(let report): measurements.chargers[report.device] = ChargerSample(report: report)
                case .meter(let reading):
                    measurements.meters[reading.device] = MeterSample(reading: reading)
                    if reading.device == mainMeter { decide() }
                }
            }
            if devices.batteryW > 0 { batteryDischargedWh += devices.batteryW / 3600 } else { batteryChargedWh -= devices.batteryW / 3600 }
        }
    }

    private mutating func decide() {
        let now = plant.now
        let withPending = PendingLoads.apply(measurements, model: model, pending: pending)
        let (next, decision) = ControlCycle.run(state: state, model: model, measurements: withPending, now: now)
        state = next
        for (i, sp) in decision.setpoints.enumerated() {
            plant.write(charger: i, current: sp.current, phases: sp.phases)
            if i == 0, sp.current != lastSetpoint {
                setpointChanges += 1
                lastSetpoint = sp.current
            }
        }
        let inputs = HouseInputs.afterCars(
            decision, settings: state.settings, model: model, measurements: measurements, forCars: withPending,
            pending: pending, now: now, tariff: nil, batteryW: devices.batteryW, batterySoC: devices.batterySoC,
            inverterW: devices.pvW + devices.batteryW)
        let (nextHouse, hd) = planner.step(houseState, inputs: inputs)
        houseState = nextHouse
        if let trace, now >= trace, now < trace + traceSeconds { printTrace(now, decision: decision, house: hd) }
        pending = PendingLoads.prune(pending + hd.switchedOn, now: now)
        for relay in hd.relayStates { devices.setRelay(relay.id, on: relay.on) }
        if let e = hd.exportLimit { devices.setExportLimit(e.limitW) }
        if let b = hd.battery { devices.setBatteryLimits(maxChargeW: b.maxChargeW, maxDischargeW: b.maxDischargeW) }
    }

    private func printTrace(_ now: Date, decision: Decision, house hd: HouseDecision) {
        let b = decision.budget
        let carW = (plant.draw(charger: 0) * Profiles.voltage).sum()
        let grid = (plant.panelCurrents()[0] * Profiles.voltage).sum()
        func f(_ x: Double) -> String { String(format: "%6.0f", x) }
        let sp = decision.setpoints.first
        let fields = [
            ISO8601DateFormatter().string(from: now), "grid", f(grid), "house", f(householdW(now)), "car", f(carW),
            "sp", String(format: "%4.1f", sp?.current ?? 0), "\(sp?.reason ?? .noCar)", "hp", f(devices.heatPumpW),
            "boiler", f(devices.boilerW), "bat", f(devices.batteryW), String(format: "soc %4.1f", devices.batterySoC),
            "pv", f(devices.pvW), "| soFar", f(b.energySoFarWh), "allowed", f(b.allowedRestW), "tolerated",
            f(b.toleratedRestW), "hhNow", f(b.householdW), "hhEst", f(b.householdEstimateW), "fc", f(b.forecastW),
            "| lim", hd.battery.map { "\(Int($0.maxChargeW))/\(Int($0.maxDischargeW)) \($0.dischargeReason)" } ?? "-",
            "| hp", hd.heatPump.map { "\($0.regime) \($0.reason)" } ?? "-",
        ]
        print(fields.joined(separator: " "))
    }

    /// Hours in each SG-Ready regime (off, normal, comfort, boost) until now.
    var regimeHours: [Double] {
        var hours = [0.0, 0, 0, 0]
        let log = devices.regimeLog
        for (k, entry) in log.enumerated() {
            let until = k + 1 < log.count ? log[k + 1].time : devices.now
            hours[entry.regime] += until.timeIntervalSince(entry.time) / 3600
        }
        return hours
    }
}

/// Runs Phasor on the household without and with the house devices (one per core) and
/// prints the comparison.
func printHouseTable(
    days: Int, seed: UInt64, sliderKW: Double, pvWh: Double, plain: @escaping @Sendable () -> Outcome,
    house: @escaping @Sendable () -> (Outcome, HouseYear)
) async throws {
    async let plainRun = plain()
    async let houseRun = house()
    let without = await plainRun
    let (with, loop) = await houseRun
    let results = [without, with]
    let devices = loop.devices
    // PV the house run produced (the inverter, second by second; nothing curtailed).
    let pv = [pvWh, devices.pvWh]

    func kw(_ w: Double) -> String { String(format: "%.2f", w / 1000) }
    func kwh(_ wh: Double) -> String { String(format: "%.0f", wh / 1000) }
    func row(_ label: String, _ values: [String]) {
        print(label.padding(toLength: 44, withPad: " ", startingAt: 0)
            + values.map { $0.padding(toLength: 26, withPad: " ", startingAt: 0) }.joined())
    }

    print("Simulated \(days) days from 2025-01-01, seed \(seed): the household, EV and 5 kWp PV of the default run,")
    print("slider \(sliderKW) kW, without and with an SG-Ready heat pump (0 / 0.5 / 1.5 / 2.5 kW), a 2.4 kW boiler")
    print("on a relay (L3, surplus + 02:00–05:00 timer) and a steered 10 kWh / 5 kW battery\n")
    row("", ["EV only", "EV + house devices"])
    for (k, month) in without.monthPeaksW.enumerated() {
        row("peak \(month.month) (kW, slider \(sliderKW))", results.map { k < $0.monthPeaksW.count ? kw($0.monthPeaksW[k].peak) : "-" })
    }
    row("mean monthly peak (kW, billed ≥ 2.5)", results.map { r in
        kw(r.monthPeaksW.map { max($0.peak, 2500) }.reduce(0, +) / Double(max(1, r.monthPeaksW.count)))
    })
    row("months over the slider", results.map { r in "\(r.monthPeaksW.filter { $0.peak > sliderKW * 1000 + 1 }.count)" })
    if let worst = with.worstQuarter {
        row("quarters over the slider (with the devices)", ["-", "\(with.quartersOver), highest \(kw(worst.averageW)) kW"])
        row("  the highest starts at", ["-", ISO8601DateFormatter().string(from: worst.start)])
    }
    let over = loop.plant.mainEnergy.closedQuarters.filter { $0.averageW > sliderKW * 1000 + 1 }
    if !over.isEmpty, over.count <= 20 {
        row("  each (UTC start, kW)", ["-", over.map { "\(ISO8601DateFormatter().string(from: $0.start)) \(kw($0.averageW))" }
            .joined(separator: ", ")])
    }
    row("PV produced (kWh)", pv.map { kwh($0) })
    row("PV self-consumption", zip(results, pv).map { r, p in String(format: "%.1f %%", 100 * (p - r.exportWh) / max(1, p)) })
    row("grid import / export (kWh)", results.map { "\(kwh($0.importWh)) / \(kwh($0.exportWh))" })
    row("EV energy delivered / missed (kWh)", results.map { "\(kwh($0.deliveredWh)) / \(kwh($0.missedWh))" })
    row("battery charged / discharged (kWh)", ["-", String(format: "%.1f / %.1f", loop.batteryChargedWh / 1000, loop.batteryDischargedWh / 1000)])
    row("battery full cycles", ["-", String(format: "%.1f", loop.batteryDischargedWh / 10_000)])
    let hours = loop.regimeHours
    row("heat pump h off / normal / comfort / boost", ["-", hours.map { String(format: "%.0f", $0) }.joined(separator: " / ")])
    row("heat pump energy (kWh)", ["-", kwh(devices.heatPumpWh)])
    row("heat-pump regime changes", ["-", "\(max(0, devices.regimeLog.count - 1))"])
    row("boiler energy (kWh)", ["-", kwh(devices.boilerEnergyWh)])
    row("boiler relay changes", ["-", "\(devices.relayLog.filter { $0.relay == "boiler" }.count)"])
    row("EV setpoint changes", results.map { "\($0.changes)" })
    row("seconds over any limit (per phase)", results.map { String(format: "%.0f", $0.secondsOver) })
    row("  of which not after a house step", results.map { String(format: "%.0f", $0.decisionSecondsOver) })
    row("worst excess (A)", results.map { String(format: "%.1f", $0.worstExcess) })
    row("run time (s)", results.map { String(format: "%.1f", $0.seconds) })
}
