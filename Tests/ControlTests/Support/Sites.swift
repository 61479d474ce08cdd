@testable import Control

/// Builders for the small sites the scenarios use.
enum Sites {
    /// No anti-flap delays, so a scenario sees the distribution rules alone.
    static let immediate = TimingConfig(
        minRunSeconds: 0, minPauseSeconds: 0, hysteresisA: 0, increaseIntervalSeconds: 0, breakerMarginA: 0,
        turnSeconds: 0)

    static func chargePoint(
        _ id: String, rotation: PhaseRotation = .l1l2l3, phases: Int = 3, max: Double = 16,
        mode: ChargeMode = .automatic, manual: Double? = nil, priority: Int = 0, switching: Bool = false
    ) -> ChargePointConfig {
        ChargePointConfig(
            id: id, rotation: rotation, phases: phases, phaseSwitching: switching, maxCurrent: max, mode: mode,
            manualCurrent: manual, priority: priority)
    }

    /// One main connection with a real meter and the charge points directly below it.
    static func single(
        limit: Double, chargePoints: [ChargePointConfig], preset: Preset = .hub, sliderKW: Double = 100,
        timing: TimingConfig = immediate
    ) throws -> SiteModel {
        try SiteModel(
            config: SiteConfig(
                preset: preset, budget: BudgetConfig(sliderKW: sliderKW, marginKW: 0), timing: timing,
                site: PanelConfig(
                    id: "main", currentLimit: PhaseLimit(limit), meter: .device("grid"), chargePoints: chargePoints)))
    }
}
