import Control
import Foundation
import PhasorCore
import PhasorService

/// Control's section of the site file (`control:`), checked as phasor-control checks
/// it at start; `phasor config check` runs the same. The tree's own rules (ids,
/// limits, levels) are checked while decoding (`SiteConfigValidation`); here are the
/// product's ranges on top of the library's.
public struct ControlSiteCheck: SiteCheck {
    public init() {}

    public func check(_ site: SiteConfiguration, in document: ConfigDocument) throws -> [ConfigError] {
        guard let control = site.control else { return [] }
        let range = BudgetConfig.sliderRangeKW
        if !range.contains(control.budget.sliderKW) {
            throw document.error(
                "control.budget.slider_kw",
                "\(JSONWriter.format(control.budget.sliderKW)): use \(JSONWriter.format(range.lowerBound))…\(JSONWriter.format(range.upperBound)) kW")
        }
        func walk(_ panel: PanelConfig, path: String) throws {
            for (i, cp) in panel.chargePoints.enumerated() where cp.phases != 1 && cp.phases != 3 {
                throw document.error("\(path).charge_points[\(i)].phases",
                                     "\(cp.phases): use 1 or 3 (a charger is wired on one phase or on three)")
            }
            for (i, child) in panel.panels.enumerated() { try walk(child, path: "\(path).panels[\(i)]") }
        }
        try walk(control.site, path: "control.site")
        if let house = control.house { try checkHouse(house, site: site, in: document) }
        return []
    }

    /// The house loads' relays must be relays the gateway has (`modbus.relays`), and a
    /// named model must be in the shipped compatibility table (`phasor heat-pumps`).
    private func checkHouse(_ house: HouseConfig, site: SiteConfiguration, in document: ConfigDocument) throws {
        let known = Set((site.modbus?.relays ?? []).map(\.id))
        let knownText = known.isEmpty ? "none is configured" : "known: \(known.sorted().joined(separator: ", "))"
        if let hp = house.heatPump {
            for (i, id) in hp.relays.enumerated() where !known.contains(id) {
                throw document.error("control.house.heat_pump.relays[\(i)]", "no relay '\(id)' in modbus.relays (\(knownText))")
            }
        }
        for (i, relay) in house.relays.enumerated() where !known.contains(relay.id) {
            throw document.error("control.house.relays[\(i)].id", "no relay '\(relay.id)' in modbus.relays (\(knownText))")
        }
        let named = [(house.heatPump?.model, "control.house.heat_pump.model", HeatPumpModel.Kind.heatPump)]
            + house.relays.enumerated().map { ($1.model, "control.house.relays[\($0)].model", HeatPumpModel.Kind.waterHeater) }
        for (model, field, kind) in named {
            guard let model else { continue }
            let table: HeatPumpCatalogue
            do { table = try HeatPumpTable.load() } catch {
                throw document.error(field, "the compatibility table cannot be read: \(error)")
            }
            guard let entry = table.model(model) else {
                throw document.error(field, "'\(model)' is not in the compatibility table (`phasor heat-pumps` lists it)")
            }
            if entry.kind != kind {
                throw document.error(field, "'\(model)' is a \(entry.kind.rawValue.replacingOccurrences(of: "_", with: " ")) in the table")
            }
        }
    }
}
