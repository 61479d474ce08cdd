import Control
import ControlSimulation
import Foundation
import PhasorCore
import Plant
import Testing

/// Control's cycle and the house planner closed-loop on the plant and its house devices,
/// as the service runs them: a decision on every main-meter reading, the cars' view of
/// the meter without the battery's discharge, relay writes applied at once.
struct HouseLoop {
    let model: SiteModel
    let planner: HousePlanner
    var plant: Plant
    var devices: HouseDevices
    var state: ControlState
    var house: HouseState
    var measurements = Measurements()
    var pending: [PendingLoad] = []
    /// Uncontrolled household power now, W (balanced), by time.
    let houseW: @Sendable (Date) -> Double
    /// Extra uncontrolled current on L1 (a kettle), A, by time.
    let kettleA: @Sendable (Date) -> Double
    let tariff: @Sendable (Date) -> TariffSignals?
    /// The plant's load slots: 0 the household, 1 the house devices.
    static let devicesSlot = 1
    /// The inverter's report (battery power and SoC, AC output) as control last read it:
    /// every `inverterPeriod` s, apart from the meter; nil period = read at each decision.
    var inverterPeriod: Double?
    var inverterReport: (time: Date, batteryW: Double, soc: Double, outputW: Double)?
    /// Steer the battery's limits and the inverter's export limit as decided (the gateway's writes).
    var applyStorage = true
    /// Control stopped at this time: the gateway's safe values hold from then on.
    var controlStops: Date?
    /// The export limit (W) the gateway writes when control goes quiet; nil = no limit.
    var safeExportLimitW: Double?
    /// Every export limit and battery limits decided.
    var exportLimits: [(time: Date, limitW: Double?, reason: String)] = []
    var batteryLimits: [(time: Date, limits: BatteryLimits)] = []
    var batteryIntoCarsWh = 0.0
    /// Seconds with export (W) at the main connection, by time.
    var exportByTime: [(time: Date, exportW: Double)] = []

    /// What happened, for the properties.
    var secondsOver: [Date] = []
    var maxPhaseA = 0.0
    var carWh = 0.0
    var importWh = 0.0
    var exportWh = 0.0
    /// Every relay change with the planner's reason.
    var relayReasons: [(time: Date, relay: String, on: Bool, reason: SurplusRelayMachine.Reason)] = []
    /// Every heat-pump change with the planner's reason.
    var regimeReasons: [(time: Date, regime: HeatPumpRegime, reason: String)] = []

    init(model: SiteModel, plantConfig: PlantConfig, devices: HouseDevicesConfig, start: Date, seed: UInt64,
         batterySoC: Double = 50, houseW: @escaping @Sendable (Date) -> Double,
         kettleA: @escaping @Sendable (Date) -> Double = { _ in 0 },
         tariff: @escaping @Sendable (Date) -> TariffSignals? = { _ in nil }) {
        self.model = model
        planner = HousePlanner(config: model.house!, model: model, preset: model.preset, timeZone: model.calendar.timeZone)
        plant = Plant(config: plantConfig, start: start, seed: seed)
        self.devices = HouseDevices(config: devices, start: start, batterySoC: batterySoC)
        state = ControlState(model: model)
        house = planner.initialState(now: start)
        self.houseW = houseW
        self.kettleA = kettleA
        self.tariff = tariff
    }

    /// Runs second by second until `end`; `events` run at the top of each second.
    mutating func run(until end: Date, limit: Double, events: (inout Plant, Date) -> Void = { _, _ in }) {
        var t = plant.now
        while t < end {
            t += 1
            events(&plant, t)
            let carW = plant.config.chargers.indices.reduce(0.0) { $0 + (plant.draw(charger: $1) * 230).sum() }
            devices.advance(to: t, houseW: houseW(t) + kettleA(t) * 230 + carW)
            var extra = devices.currents
            extra[0] += kettleA(t)
            plant.setLoad(Self.devicesSlot, base: extra)
            for delivery in plant.advance(to: t) {
                switch delivery.output {
                case .charger(let report): measurements.chargers[report.device] = ChargerSample(report: report)
                case .meter(let reading):
                    measurements.meters[reading.device] = MeterSample(reading: reading)
                    decide()
                }
            }
            if let p = inverterPeriod, inverterReport.map({ t.timeIntervalSince($0.time) >= p }) ?? true {
                inverterReport = (t, devices.batteryW, devices.batterySoC, devices.pvW + devices.batteryW)
            }
            if let stop = controlStops, t >= stop, t < stop + 1 {
                devices.clearBatteryLimits()
                devices.setExportLimit(safeExportLimitW)
            }
            let truth = plant.panelCurrents()[0]
            maxPhaseA = max(maxPhaseA, truth.max())
            if truth.max() > limit + 1e-6 { secondsOver.append(t) }
            carWh += carW / 3600
            let grid = (truth * 230).sum()
            exportByTime.append((t, -grid))
            // The battery's discharge beyond what the house draws without the cars.
            let houseOnly = houseW(t) + kettleA(t) * 230 + devices.heatPumpW + devices.boilerW - devices.pvW
            batteryIntoCarsWh += max(0, devices.batteryW - max(0, houseOnly)) / 3600
            if grid > 0 { importWh += grid / 3600 } else { exportWh -= grid / 3600 }
        }
    }

    private mutating func decide() {
        let now = plant.now
        if let stop = controlStops, now >= stop { return }
        let report = inverterPeriod == nil
            ? (time: now, batteryW: devices.batteryW, soc: devices.batterySoC, outputW: devices.pvW + devices.batteryW)
            : inverterReport ?? (time: now, batteryW: 0, soc: devices.batterySoC, outputW: 0)
        let withPending = PendingLoads.apply(measurements, model: model, pending: pending)
        // As the engine: a steered battery is kept out of the cars by its limit, not by the view.
        let steered = model.house?.battery?.steered == true && applyStorage
        let forCars = steered ? withPending
            : BatteryView.measurementsForCars(withPending, model: model, batteryW: report.batteryW)
        let (next, decision) = ControlCycle.run(state: state, model: model, measurements: forCars, now: now)
        state = next
        for (i, sp) in decision.setpoints.enumerated() { plant.write(charger: i, current: sp.current) }
        var inputs = HouseInputs.afterCars(
            decision, settings: state.settings, model: model, measurements: measurements, forCars: forCars,
            pending: pending, now: now, tariff: tariff(now), batteryW: report.batteryW, batterySoC: report.soc,
            inverterW: report.outputW)
        inputs.batteryTime = report.time
        let before = house
        let (nextHouse, hd) = planner.step(house, inputs: inputs)
        house = nextHouse
        pending = PendingLoads.prune(pending + hd.switchedOn, now: now)
        for relay in hd.relays where before.relays[relay.id]?.on != relay.on {
            relayReasons.append((now, relay.id, relay.on, relay.reason))
        }
        if let hp = hd.heatPump, before.heatPump?.regime != hp.regime { regimeReasons.append((now, hp.regime, hp.reason)) }
        for relay in hd.relayStates { devices.setRelay(relay.id, on: relay.on) }
        if let e = hd.exportLimit {
            exportLimits.append((now, e.limitW, e.reason))
            if applyStorage { devices.setExportLimit(e.limitW) }
        }
        if let b = hd.battery {
            batteryLimits.append((now, b))
            if applyStorage { devices.setBatteryLimits(maxChargeW: b.maxChargeW, maxDischargeW: b.maxDischargeW) }
        }
    }
}
