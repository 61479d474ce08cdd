import Foundation
import Testing

@testable import Control

/// Product spec §2, "Safety first": stale meters, offline chargers, breakers above the slider.
@Suite struct FailSafeTests {
    /// main (40 A, real meter) ─┬─ garage (32 A, its own meter, 30 s timeout) ── cp1, cp2
    ///                          └─ cp3
    func site() throws -> SiteModel {
        try SiteModel(
            config: SiteConfig(
                preset: .hub, budget: BudgetConfig(sliderKW: 100), timing: Sites.immediate,
                site: PanelConfig(
                    id: "main", currentLimit: PhaseLimit(40), meter: .device("grid"),
                    panels: [
                        PanelConfig(
                            id: "garage", currentLimit: PhaseLimit(32), meter: .device("garage_meter"),
                            meterTimeoutSeconds: 30, chargePoints: [Sites.chargePoint("cp1", max: 32), Sites.chargePoint("cp2", max: 32)])
                    ],
                    chargePoints: [Sites.chargePoint("cp3", max: 32)])))
    }

    @Test func aStaleMeterPutsItsSubtreeOnSafeCurrentsAndTheRestBudgetsThem() throws {
        var sim = SiteSimulator(try site())
        sim.household["main"] = PhaseCurrents(repeating: 4)
        sim.cars = ["cp1": SimCar(), "cp2": SimCar(), "cp3": SimCar()]
        sim.run(seconds: 5)
        #expect(sim.decision!.setpoints.map(\.current) == [12, 12, 12])

        sim.silentMeters = ["garage_meter"]
        sim.run(seconds: 25)
        #expect(sim.decision!.current("cp1") == 12)  // within the timeout: still trusted

        sim.run(seconds: 10)
        let d = try #require(sim.decision)
        for id in ["cp1", "cp2"] {
            #expect(d.current(id) == 6)
            #expect(d.setpoint(id)?.reason == .meterStale(node: "garage"))
        }
        // The main meter still sees everything; the safe currents are budgeted, once.
        #expect(d.current("cp3") == 24)
        #expect(d.nodes[0].expected == PhaseCurrents(repeating: 40))
        #expect(d.nodes[1].meterFresh == false)
    }

    @Test func anOfflineChargerIsBudgetedAtItsSafeCurrent() throws {
        var sim = SiteSimulator(try site())
        sim.cars = ["cp1": SimCar(), "cp3": SimCar()]
        sim.run(seconds: 3)
        #expect(sim.decision!.current("cp1") == 20)
        #expect(sim.decision!.current("cp3") == 20)

        sim.offlineChargers = ["cp1"]
        sim.run(seconds: 61)
        let d = try #require(sim.decision)
        #expect(d.setpoint("cp1")?.reason == .chargerOffline)
        #expect(d.current("cp1") == 6)
        // Its car now draws the safe 6 A, which the main meter sees; the safe current is
        // budgeted on top, since nobody can tell what an unreachable charger does next.
        #expect(d.current("cp3") == 40 - 6 - 6)
    }

    @Test func withoutTheMainMeterEverythingRunsOnSafeCurrents() throws {
        var sim = SiteSimulator(try site())
        sim.cars = ["cp1": SimCar(), "cp3": SimCar()]
        sim.run(seconds: 3)
        sim.silentMeters = ["grid"]
        sim.run(seconds: 31)
        let d = try #require(sim.decision)
        #expect(d.budget.meterFresh == false)
        #expect(d.setpoints.allSatisfy { $0.current == 6 && $0.reason == .meterStale(node: "main") })
    }

    @Test func theSliderNeverOverridesABreaker() throws {
        let model = try Sites.single(limit: 16, chargePoints: [Sites.chargePoint("cp1", max: 32)], sliderKW: 50)
        var sim = SiteSimulator(model)
        sim.household["main"] = PhaseCurrents(3, 5, 1)
        sim.cars = ["cp1": SimCar()]
        let d = sim.run(seconds: 5).last!
        #expect(d.current("cp1") == 11)
        #expect(d.setpoint("cp1")?.reason == .limitedBy(.breaker(node: "main", phase: 2)))
        #expect(d.nodes[0].expected.max() <= 16)
    }

    @Test func aHouseholdLoadAboveTheBreakerStopsTheCarsAtOnce() throws {
        // Even inside its minimum run time a car yields to a breaker.
        let model = try Sites.single(
            limit: 25, chargePoints: [Sites.chargePoint("cp1")], timing: TimingConfig(minRunSeconds: 600))
        var sim = SiteSimulator(model)
        sim.cars = ["cp1": SimCar()]
        sim.run(seconds: 5)
        #expect(sim.decision!.current("cp1") == 16)
        sim.household["main"] = PhaseCurrents(22, 0, 0)
        sim.step()
        #expect(sim.decision!.current("cp1") == 0)
        #expect(sim.decision!.setpoint("cp1")?.reason == .stopped(.breaker(node: "main", phase: 1)))
    }
}
