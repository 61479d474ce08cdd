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
            let truth = plant.panelCurrents()[0]
            maxPhaseA = max(maxPhaseA, truth.max())
            if truth.max() > limit + 1e-6 { secondsOver.append(t) }
            carWh += carW / 3600
            let grid = (truth * 230).sum()
            if grid > 0 { importWh += grid / 3600 } else { exportWh -= grid / 3600 }
        }
    }

    private mutating func decide() {
        let now = plant.now
        let withPending = PendingLoads.apply(measurements, model: model, pending: pending)
        let forCars = BatteryView.measurementsForCars(withPending, model: model, batteryW: devices.batteryW)
        let (next, decision) = ControlCycle.run(state: state, model: model, measurements: forCars, now: now)
        state = next
        for (i, sp) in decision.setpoints.enumerated() { plant.write(charger: i, current: sp.current) }
        var solarW = 0.0
        for (i, sp) in decision.setpoints.enumerated() where model.chargePoints[i].mode == .solar { solarW += sp.power }
        let inputs = HouseInputs(
            now: now, gridPowerW: withPending.meters[rootMeter]?.power, solarCarsW: solarW,
            budget: decision.budget, nodes: decision.nodes, tariff: tariff(now), batteryW: devices.batteryW,
            rootCurrents: forCars.meters[rootMeter]?.currents)
        let before = house
        let (nextHouse, hd) = planner.step(house, inputs: inputs)
        house = nextHouse
        pending = PendingLoads.prune(pending + hd.switchedOn, now: now)
        for relay in hd.relays where before.relays[relay.id]?.on != relay.on {
            relayReasons.append((now, relay.id, relay.on, relay.reason))
        }
        if let hp = hd.heatPump, before.heatPump?.regime != hp.regime { regimeReasons.append((now, hp.regime, hp.reason)) }
        for relay in hd.relayStates { devices.setRelay(relay.id, on: relay.on) }
    }

    private var rootMeter: String {
        if case .device(let id) = model.nodes[0].meter { return id }
        return ""
    }
}
