import Control
import Foundation
import Plant

extension PlantConfig {
    /// The plant of a control site: one panel per node (same order, same limits), one
    /// charger per charge point (same order, device and wiring), one meter per node with a
    /// real meter. Timing starts as a DSMR 5-like meter every second (sampled on the second,
    /// 0.01 A) and chargers reporting every second half a second later; change the specs
    /// before creating the `Plant` to vary it. No loads: add them per panel.
    public init(model: SiteModel, step: TimeInterval = 0.05, explainWindow: TimeInterval = 6) {
        let panels = model.nodes.map { PlantPanel(id: $0.id, parent: $0.parent, limit: $0.limit) }
        let chargers = model.chargePoints.map { cp in
            ChargerSpec(
                device: cp.device, panel: cp.node, wiring: TerminalWiring(rotation: cp.rotation), phases: cp.phases,
                safeCurrent: cp.safeCurrent)
        }
        var meters: [MeterSpec] = []
        for (n, node) in model.nodes.enumerated() {
            if case .device(let device) = node.meter { meters.append(MeterSpec(device: device, panel: n)) }
        }
        self.init(
            panels: panels, chargers: chargers, meters: meters, voltage: model.voltage, step: step,
            explainWindow: explainWindow)
    }
}

extension TerminalWiring {
    public init(rotation: PhaseRotation) {
        switch rotation {
        case .l1l2l3: self = .l1l2l3
        case .l2l3l1: self = .l2l3l1
        case .l3l1l2: self = .l3l1l2
        }
    }
}

extension ChargerSample {
    /// What control makes of a plant charger report (the gateway's `…/state` decoded).
    public init(report: ChargerReport) {
        self.init(time: report.time, online: true, connected: report.status.vehiclePresent, currents: report.currents)
    }
}
