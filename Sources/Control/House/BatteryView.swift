import Foundation

/// The house battery in the cars' decision.
///
/// A home battery in self-consumption covers what the house imports: while it discharges
/// the main meter reads less import (or none), so cars steered on the surplus or on the
/// budget would charge from the battery. Unless the site allows it
/// (`house.battery.to_cars: true`), control looks at the main meter as if the battery
/// were not discharging: its discharge is added to the root meter's power and, spread
/// over the phases it feeds, to its currents. This only ever raises the load control sees,
/// so no limit is loosened by it.
public enum BatteryView {
    /// Readings of the battery older than this are not believed, s.
    public static let maxAge: TimeInterval = 30

    public static func measurementsForCars(
        _ measurements: Measurements, model: SiteModel, batteryW: Double?, phases: Int = 3
    ) -> Measurements {
        guard let batteryW, batteryW > 0, case .device(let root) = model.nodes[0].meter,
            var sample = measurements.meters[root]
        else { return measurements }
        var out = measurements
        sample.power = sample.power.map { $0 + batteryW }
        if let c = sample.currents {
            let share = batteryW / model.voltage / Double(phases >= 3 ? 3 : 1)
            sample.currents = phases >= 3 ? c + PhaseCurrents(repeating: share) : c + PhaseCurrents(share, 0, 0)
        }
        out.meters[root] = sample
        return out
    }
}
