import Control
import Foundation
import Modbus
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
        try checkStorage(house, site: site, in: document)
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

    /// A steered battery and an export limit need a device in `modbus.devices` that takes
    /// those setpoints (its `setpoints` ratings), within its ratings; and the inverter's
    /// safe limit must hold the export limit alone when control goes quiet.
    private func checkStorage(_ house: HouseConfig, site: SiteConfiguration, in document: ConfigDocument) throws {
        let devices = site.modbus?.devices ?? []
        func device(_ id: String, _ field: String) throws -> InverterSetpointLimits {
            guard let d = devices.first(where: { $0.id == id }) else {
                throw document.error(field, "no device '\(id)' in modbus.devices")
            }
            guard let limits = d.setpoints else {
                throw document.error(field, "modbus.devices '\(id)' has no setpoints: give its ratings there (docs/house.md)")
            }
            return limits
        }
        let format = JSONWriter.format
        if let b = house.battery, b.steered, let charge = b.maxChargeW, let discharge = b.maxDischargeW {
            let limits = try device(b.setpointDevice, b.device == nil ? "control.house.battery.meter" : "control.house.battery.device")
            for (value, rating, key) in [(charge, limits.batteryMaxChargeW, "max_charge_w"),
                                         (discharge, limits.batteryMaxDischargeW, "max_discharge_w")] {
                guard let rating else {
                    throw document.error("control.house.battery.\(key)",
                                         "modbus.devices '\(b.setpointDevice)' has no battery_\(key) rating (its profile takes no battery limits?)")
                }
                if value > rating {
                    throw document.error("control.house.battery.\(key)", "\(format(value)) W is above the device's rating of \(format(rating)) W")
                }
            }
        }
        if let e = house.exportLimit {
            let limits = try device(e.inverter, "control.house.export_limit.inverter")
            guard let rating = limits.activePowerMaxW else {
                throw document.error("control.house.export_limit.inverter",
                                     "modbus.devices '\(e.inverter)' has no active_power_max_w (its profile takes no active-power limit?)")
            }
            if e.ratedPowerW > rating {
                throw document.error("control.house.export_limit.rated_power_w",
                                     "\(format(e.ratedPowerW)) W is above the device's active_power_max_w of \(format(rating)) W")
            }
            let safe = limits.activePowerSafeW ?? rating
            if safe > e.maxExportW {
                throw document.error("control.house.export_limit.max_export_w",
                                     "the inverter's safe limit (modbus.devices '\(e.inverter)'.setpoints.active_power_safe_w, \(format(safe)) W) is above the export limit of \(format(e.maxExportW)) W: when control goes quiet the export could pass it; set active_power_safe_w to at most \(format(e.maxExportW)) W")
            }
        }
    }
}
