import Control
import ControlSimulation
import Foundation
import PhasorCore
import Plant
import Testing

/// The quarter hour the simulated year exceeded the slider in with the house devices
/// (2025-02-11 18:30 UTC, `phasor-bench-year --house --trace 2025-02-11T18:30:00Z`): a winter
/// evening, no sun, the battery empty, the heat pump in Normal beside a ~3.4 kW household (3.6 kW here),
/// and a car that starts in the last seconds of the quarter before — its minimum run time
/// then keeps it at its minimum (6 A × 3) for most of 5 minutes of the next quarter. The car
/// cannot give way, so the heat pump must: before the fix it was shed only once the
/// household alone overran the rest of the quarter (minutes late), and came back as soon as
/// its own absence covered the deficit (Off 1 min, Normal 5 min for its dwell, Off…).
@Suite struct HouseQuarterPeakTests {
    /// 2025-02-11 18:00 UTC (19:00 in Brussels), a quarter-hour boundary.
    static let start = Date(timeIntervalSince1970: 1_739_296_800)
    static let householdW = 3600.0

    static let heatPump = HeatPumpConfig(
        relays: ["hp_sg0", "hp_sg1"], powerW: [.off: 0, .normal: 500, .comfort: 1500, .boost: 2500],
        comfortExportW: 1000, boostExportW: 2000, hysteresisW: 300)

    static func run() throws -> HouseLoop {
        let model = try SiteModel(config: SiteConfig(
            preset: .residential, budget: BudgetConfig(sliderKW: 5),
            site: PanelConfig(
                id: "main", currentLimit: PhaseLimit(32), meter: .device("grid"),
                chargePoints: [ChargePointConfig(id: "cp1", phases: 3, maxCurrent: 16)]),
            house: HouseConfig(heatPump: heatPump)))
        let house: @Sendable (Date) -> Double = { _ in householdW }
        var loop = HouseLoop(
            model: model,
            plantConfig: PlantConfig(
                panels: [PlantPanel(id: "main", parent: nil, limit: PhaseAmperes(repeating: 32))],
                chargers: [ChargerSpec(device: "cp1", panel: 0, phases: 3, writeLatency: 0.1, reportPeriod: 1, reportOffset: 0.5)],
                meters: [.dsmr5(device: "grid", panel: 0)],
                loads: [LoadSpec(panel: 0, noise: 0.3, noiseHold: 1, profile: { t in PhaseAmperes(repeating: house(t) / 690) }),
                        LoadSpec(panel: 0)],
                step: 1),
            devices: HouseDevicesConfig(heatPump: .init(sg0: "hp_sg0", sg1: "hp_sg1", powerW: [0, 500, 1500, 2500])),
            start: start, seed: 11, houseW: house)
        // The car arrives with 70 s left in the 18:00 quarter, which was quiet (3.5 kW + the
        // heat pump's 0.5 kW on a 5 kW slider): the energy saved lets it start at once.
        loop.run(until: start + 1799, limit: 32) { plant, t in
            if t == start + 830 {
                plant.plug(charger: 0, car: CarSpec(phases: 3, maxCurrent: 16, lowerDelay: 1, riseDelay: 1, rampRate: 8,
                                                    energyWantedWh: 20_000))
            }
        }
        return loop
    }

    @Test func aCarHeldAtItsMinimumMakesTheHeatPumpGiveWayForTheQuarter() throws {
        let run = try Self.run()
        let quarters = HouseStorageTests.quarterAverages(run)
        #expect(quarters.count == 2)
        #expect(run.carWh > 300, "the car charged \(run.carWh) Wh")
        #expect(quarters.allSatisfy { $0 <= 5000 }, "quarter averages \(quarters.map { Int($0) }) W on a 5 kW slider")
        // The heat pump gave way once, for as long as the quarter needed it: no Off/Normal flapping.
        let offs = run.regimeReasons.filter { $0.regime == .off && $0.time >= Self.start + 900 }
        #expect(offs.count == 1, "the heat pump went Off \(offs.count) times: \(run.regimeReasons.map { "\($0.time) \($0.regime)" })")
        #expect(offs.first.map { $0.time < Self.start + 900 + 120 } ?? false,
                "Off from \(String(describing: offs.first?.time)): it must give way while the car's minimum run is known")
    }
}
