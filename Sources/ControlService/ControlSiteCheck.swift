import Control
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
        return []
    }
}
