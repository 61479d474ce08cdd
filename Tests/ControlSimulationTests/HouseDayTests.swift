import Control
import ControlSimulation
import Foundation
import PhasorCore
import Plant
import Testing

/// Issue 11 on the plant: a sunny blue day, then a red Tempo day, with an SG-Ready heat
/// pump, a boiler on a relay (surplus + a midday timer), a home battery, a PV inverter and
/// a car charging on surplus — control's cycle and the house planner closed-loop on
/// virtual time, as the service runs them (a decision on every main-meter reading).
@Suite struct HouseDayTests {
    /// 2026-06-15 00:00 Europe/Paris (a Monday).
    static let start = ISO8601DateFormatter().date(from: "2026-06-15T00:00:00+02:00")!
    static let paris: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "Europe/Paris")!
        return c
    }()

    static func hourOfDay(_ t: Date) -> Double {
        let p = paris.dateComponents([.hour, .minute, .second], from: t)
        return Double(p.hour ?? 0) + Double(p.minute ?? 0) / 60 + Double(p.second ?? 0) / 3600
    }

    /// 6 kWp, a clear first day, an overcast second day (20 %).
    static let pv: @Sendable (Date) -> Double = { t in
        let h = hourOfDay(t)
        guard h > 6, h < 21 else { return 0 }
        let day = t.timeIntervalSince(start) < 86_400 ? 1.0 : 0.2
        return 6000 * day * sin(Double.pi * (h - 6) / 15)
    }

    /// 400 W base, 2 kW of cooking 19:00–20:00, balanced.
    static let houseW: @Sendable (Date) -> Double = { t in
        let h = hourOfDay(t)
        return 400 + (h >= 19 && h < 20 ? 2000 : 0)
    }

    static let heatPump = HeatPumpConfig(
        relays: ["hp_sg0", "hp_sg1"], powerW: [.off: 0, .normal: 1000, .comfort: 2000, .boost: 3000],
        comfortExportW: 1000, boostExportW: 2500, hysteresisW: 300)
    static let boiler = SurplusRelayConfig(
        id: "boiler", powerW: 2400, wiring: LoadWiring(phases: 1, phase: 1), hysteresisW: 400, minOnSeconds: 600,
        minOffSeconds: 600, timers: [TimerWindow(from: 13 * 60, to: 15 * 60)])

    static func model() throws -> SiteModel {
        let house = HouseConfig(
            heatPump: heatPump, relays: [boiler], priorities: ["heat_pump", "boiler", "cars"],
            tariff: TariffConfig(rules: [TariffRule(when: .tempoRedPeak, heatPump: .off, relaysOff: ["all"], cars: .solar)]))
        return try SiteModel(
            config: SiteConfig(
                budget: BudgetConfig(sliderKW: 5, timeZone: "Europe/Paris"),
                site: PanelConfig(
                    id: "main", currentLimit: PhaseLimit(25), meter: .device("grid"),
                    chargePoints: [ChargePointConfig(id: "cp1", phases: 1, maxCurrent: 16, mode: .solar)]),
                house: house))
    }

    /// The red day's signals: Tempo red, peak hours 06:00–22:00 (what the TIC says then).
    static func tariff(at t: Date) -> TariffSignals {
        let red = t.timeIntervalSince(start) >= 86_400
        let h = hourOfDay(t)
        return TariffSignals(
            time: t, tempoToday: red ? .red : .blue, tempoTomorrow: red ? .blue : .red,
            period: h >= 6 && h < 22 ? .peak : .offPeak)
    }

    static func runTwoDays() throws -> HouseLoop {
        let model = try model()
        var loop = HouseLoop(
            model: model,
            plantConfig: PlantConfig(
                panels: [PlantPanel(id: "main", parent: nil, limit: PhaseAmperes(repeating: 25))],
                chargers: [ChargerSpec(device: "cp1", panel: 0, phases: 1, writeLatency: 0.1, reportPeriod: 1, reportOffset: 0.5)],
                meters: [.modbus(device: "grid", panel: 0, every: 5)],
                loads: [LoadSpec(panel: 0, profile: { t in PhaseAmperes(repeating: houseW(t) / 690) }), LoadSpec(panel: 0)],
                step: 1),
            devices: HouseDevicesConfig(
                heatPump: .init(sg0: "hp_sg0", sg1: "hp_sg1", powerW: [0, 1000, 2000, 3000]),
                boiler: .init(relay: "boiler", powerW: 2400, phase: 0, capacityWh: 6000, useW: 200),
                battery: .init(capacityWh: 5000, maxChargeW: 2500, maxDischargeW: 2500),
                inverter: .init(pv: pv)),
            start: start, seed: 11, batterySoC: 30, houseW: houseW, tariff: { tariff(at: $0) })
        // The car arrives at 09:00 on both days, leaves at 17:00.
        loop.run(until: start + 2 * 86_400, limit: 25) { plant, t in
            let h = hourOfDay(t)
            if h == 9 { plant.plug(charger: 0, car: CarSpec(phases: 1, maxCurrent: 16)) }
            if h == 17 { plant.unplug(charger: 0) }
        }
        return loop
    }

    @Test func twoDaysWithEveryDeviceTogether() throws {
        let run = try Self.runTwoDays()
        let devices = run.devices
        let firstDay = Self.start + 86_400

        // No limit exceeded with heat pump, boiler, battery and car together.
        #expect(run.secondsOver.isEmpty, "max \(run.maxPhaseA) A on a 25 A main")

        // The boiler obeys its minimum on and off times (600 s), whatever switched it.
        let boilerLog = devices.relayLog.filter { $0.relay == "boiler" }
        #expect(!boilerLog.isEmpty)
        for (a, b) in zip(boilerLog, boilerLog.dropFirst()) {
            #expect(b.time.timeIntervalSince(a.time) >= 600 - 1e-6, "boiler \(a.on) at \(a.time) then \(b.on) at \(b.time)")
        }

        // The heat pump: one regime at a time, dwell up (5 / 10 / 5 min), hold down 1 min, Off ≤ 2 h then Normal ≥ 1 h.
        let log = devices.regimeLog
        #expect(log.contains { $0.regime == 3 }, "boost on the sunny day")
        for (i, (a, b)) in zip(log, log.dropFirst()).enumerated() {
            let held = b.time.timeIntervalSince(a.time)
            #expect(abs(b.regime - a.regime) == 1, "one regime at a time: \(a.regime) → \(b.regime)")
            let enteredUp = i == 0 ? false : a.regime > log[i - 1].regime
            let minimum: Double = enteredUp ? [0, 300, 600, 300][a.regime] : 60
            #expect(held >= minimum - 1e-6, "regime \(a.regime) held \(held) s at \(a.time)")
            if a.regime == 0 {
                #expect(held <= 7200 + 2, "Off for \(held) s")
                // An Off that reached its limit is followed by at least an hour of Normal.
                if held >= 7200 - 2, i + 2 < log.count {
                    #expect(log[i + 2].time.timeIntervalSince(b.time) >= 3600 - 1e-6, "Normal after Off at \(b.time)")
                }
            }
        }

        // The red day sheds: Off at 06:00 for 2 h, Normal an hour, Off again…; the boiler's timer does not run.
        let redPeak = DateInterval(start: firstDay + 6 * 3600, end: firstDay + 22 * 3600)
        let offOnRedDay = log.filter { redPeak.contains($0.time) && $0.regime == 0 }
        #expect(offOnRedDay.count >= 4, "\(offOnRedDay.count) Off periods in the red peak hours")
        #expect(!boilerLog.contains { redPeak.contains($0.time) && $0.on }, "no boiler on a red day's peak hours")
        #expect(!log.contains { redPeak.contains($0.time) && $0.regime > 1 }, "no Comfort/Boost in red peak hours")

        // Sunny day: the heat pump and the boiler get the sun first (priorities), the car
        // (single-phase, solar only) what they leave once the boiler's tank is full.
        #expect(devices.boilerEnergyWh > 2000)
        #expect(run.carWh > 1000)
        print("house day: PV \(Int(devices.pvWh)) Wh, heat pump \(Int(devices.heatPumpWh)) Wh, boiler \(Int(devices.boilerEnergyWh)) Wh, car \(Int(run.carWh)) Wh, import \(Int(run.importWh)) Wh, export \(Int(run.exportWh)) Wh, max \(run.maxPhaseA) A, battery \(devices.batterySoC) %")
    }
}
