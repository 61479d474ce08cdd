import Foundation
import Modbus
import PhasorCore

/// Plausible, deterministic site behaviour as functions of time, so a test can
/// compute what a simulated device must answer at any instant of an injected clock.
public enum SiteModel {
    /// Household load in W: a base, a slow ripple and a 15-minute appliance every hour.
    public static func load(at date: Date) -> Double {
        let t = date.timeIntervalSince1970
        let ripple = 300 * sin(2 * .pi * t / 600)
        let appliance = t.truncatingRemainder(dividingBy: 3600) < 900 ? 1500.0 : 0
        return 450 + ripple + appliance
    }

    /// PV production in W for a 5 kWp system: a half sine between 06:00 and 18:00 UTC.
    public static func pv(at date: Date, peak: Double = 5000) -> Double {
        let hour = date.timeIntervalSince1970.truncatingRemainder(dividingBy: 86400) / 3600
        return max(0, peak * sin(.pi * (hour - 6) / 12))
    }

    /// Battery power (discharge positive), covering the gap between load and PV within ±3 kW.
    public static func battery(at date: Date) -> Double {
        guard batterySoC(at: date) > 10 else { return min(0, load(at: date) - pv(at: date)) }
        return min(3000, max(-3000, load(at: date) - pv(at: date)))
    }

    /// State of charge in %: a daily swing between 20 and 80.
    public static func batterySoC(at date: Date) -> Double {
        50 + 30 * sin(2 * .pi * date.timeIntervalSince1970 / 86400)
    }

    /// A counter in kWh that grows with the average `watts` since 2020, always increasing.
    public static func counter(at date: Date, averageWatts: Double, start: Double) -> Double {
        start + averageWatts * max(0, date.timeIntervalSince1970 - 1_577_836_800) / 3_600_000
    }

    /// Values a meter measuring the household (and, on channel 2, the PV) reports.
    static func meterValues(at date: Date) -> [Quantity: Double] {
        let p = load(at: date)
        let split = [0.5, 0.3, 0.2]
        var v: [Quantity: Double] = [
            .power: p, .voltage: 230.4, .current: p / 230.4, .currentNeutral: 0.12, .frequency: 50.01,
            .energyImport: counter(at: date, averageWatts: 700, start: 1234.5), .energyExport: 321.25,
            .pvPower: pv(at: date), .pvEnergy: counter(at: date, averageWatts: 600, start: 100),
        ]
        for phase in 1...3 {
            let voltage = 229.0 + Double(phase)
            v[Quantity.power.phase(phase)] = p * split[phase - 1]
            v[Quantity.voltage.phase(phase)] = voltage
            v[Quantity.current.phase(phase)] = p * split[phase - 1] / voltage
        }
        return v
    }

    /// Reactive power, apparent power and power factor that go with the real power
    /// `v[.power]` (a household's inductive load at a power factor of about 0.97):
    /// |S| ≥ |P| and S² = P² + Q², also when a test or the demo pins the power.
    /// Quantities pinned in `pinned` are kept as they are.
    static func completePowerTriangle(_ v: inout [Quantity: Double], pinned: [Quantity: Double]) {
        guard let p = v[.power] else { return }
        let q = pinned[.reactivePower] ?? abs(p) * 0.25
        let s = pinned[.apparentPower] ?? (p * p + q * q).squareRoot()
        v[.reactivePower] = q
        v[.apparentPower] = s
        v[.powerFactor] = pinned[.powerFactor] ?? (s > 0 ? abs(p) / s : 1)
    }

    /// Values a hybrid inverter with a battery and a grid sensor reports.
    static func inverterValues(at date: Date) -> [Quantity: Double] {
        let pvPower = pv(at: date)
        let batteryPower = battery(at: date)
        return [
            .pvPower: pvPower, .batteryPower: batteryPower, .batterySoC: batterySoC(at: date),
            .power: load(at: date) - pvPower - batteryPower, .inverterPower: pvPower + batteryPower,
            .pvEnergy: counter(at: date, averageWatts: 600, start: 2000),
            .energyImport: counter(at: date, averageWatts: 300, start: 1500),
            .energyExport: counter(at: date, averageWatts: 250, start: 900),
            .batteryEnergyCharge: counter(at: date, averageWatts: 150, start: 400),
            .batteryEnergyDischarge: counter(at: date, averageWatts: 140, start: 380),
            .frequency: 50.0, .voltage: 231,
        ]
    }
}
