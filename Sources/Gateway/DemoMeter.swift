import Foundation
import PhasorCore

/// A simulated three-phase grid meter for the demo site: a household base load
/// with a slow daily swing and a kettle now and then, minus PV at midday. A pure
/// function of time, so the demo is reproducible and testable.
public struct DemoMeter: Sendable {
    public let device: String
    /// The demo meter's device id.
    public static let deviceID = "grid"
    public init(device: String = DemoMeter.deviceID) { self.device = device }

    public func reading(at date: Date, utcOffsetSeconds: Int = 3600) -> Reading {
        let t = date.timeIntervalSince1970
        let localHour = (t + Double(utcOffsetSeconds)).truncatingRemainder(dividingBy: 86_400) / 3600
        let base = 450 + 250 * sin((localHour - 7) / 24 * 2 * .pi)
        let kettle = Int(t / 60) % 17 == 0 ? 2000.0 : 0
        let pv = max(0, 4000 * sin((localHour - 6) / 14 * .pi))
        let net = base + kettle - pv
        let perPhase = [net * 0.5, net * 0.3, net * 0.2]
        var r = Reading(device: device, time: MeterTimestamp(date: date, utcOffsetSeconds: utcOffsetSeconds))
        r.set(.powerImport, max(0, net).rounded())
        r.set(.powerExport, max(0, -net).rounded())
        r.set(.power, net.rounded())
        for (i, p) in perPhase.enumerated() {
            let voltage = 230 + 2 * sin(t / 37 + Double(i))
            r.set(Quantity.voltage.phase(i + 1), (voltage * 10).rounded() / 10)
            r.set(Quantity.current.phase(i + 1), (abs(p) / voltage * 100).rounded() / 100)
            r.set(Quantity.power.phase(i + 1), p.rounded())
        }
        // Energy counters that only ever grow: integrate a day-average model from a fixed epoch.
        let hours = (t - 1_700_000_000) / 3600
        r.set(.energyImport.tariff(1), (hours * 0.31 * 1000).rounded() / 1000)
        r.set(.energyImport.tariff(2), (hours * 0.22 * 1000).rounded() / 1000)
        r.set(.energyExport.tariff(1), (hours * 0.08 * 1000).rounded() / 1000)
        r.set(.energyExport.tariff(2), (hours * 0.05 * 1000).rounded() / 1000)
        return r
    }
}
