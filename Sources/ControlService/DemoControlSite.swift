import Control

/// The control tree used when the site file has no `control:` section (the demo
/// site, a quick start with flags only): one 25 A three-phase main connection
/// measured by the demo gateway's meter `grid`, with two charge points `cp1`
/// (three-phase) and `cp2` (single-phase on L2). Until a gateway publishes their
/// states they count as offline, so control budgets their safe currents, which is
/// exactly what it must do with chargers it cannot see.
public enum DemoControlSite {
    public static let mainMeter = "grid"

    public static let config = SiteConfig(
        site: PanelConfig(
            id: "main", currentLimit: PhaseLimit(25), meter: .device(mainMeter),
            chargePoints: [
                ChargePointConfig(id: "cp1", phases: 3, maxCurrent: 16),
                ChargePointConfig(id: "cp2", rotation: .l2l3l1, phases: 1, maxCurrent: 32),
            ]))
}
