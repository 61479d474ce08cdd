import Foundation
import Testing

@testable import Control

/// Product spec §2, "EV charge points" and "Load balancing over 4 levels", one rule per test.
@Suite struct DistributionTests {
    @Test func aSecondCarStartsOnlyWhenBothMinimumsFitThenTheFirstIsReduced() throws {
        // Residential preset: a new car needs 6 A + 2 A buffer beside the others' 6 A.
        let model = try Sites.single(
            limit: 13, chargePoints: [Sites.chargePoint("cp1"), Sites.chargePoint("cp2")], preset: .residential)
        var sim = SiteSimulator(model)
        sim.cars["cp1"] = SimCar()
        sim.run(seconds: 2)
        #expect(sim.decision?.current("cp1") == 13)

        sim.cars["cp2"] = SimCar()
        sim.run(seconds: 3)
        // 6 + 8 = 14 > 13: the second car waits, the first keeps everything.
        #expect(sim.decision?.current("cp1") == 13)
        #expect(sim.decision?.current("cp2") == 0)
        #expect(sim.decision?.setpoint("cp2")?.reason == .waitingForPower(.breaker(node: "main", phase: 1)))

        // One more ampere on the breaker (a new contract): 6 + 8 fits, both get half.
        var bigger = model
        bigger.nodes[0].limit = PhaseCurrents(repeating: 14)
        sim.model = bigger
        sim.run(seconds: 3)
        #expect(sim.decision?.current("cp1") == 7)
        #expect(sim.decision?.current("cp2") == 7)
    }

    @Test func aThreePhaseCarGetsThreeTimesThePowerOfAOnePhaseCarAtEqualCurrent() throws {
        // The budget (a power constraint) is what binds: both cars get the same current.
        let model = try Sites.single(
            limit: 63, chargePoints: [Sites.chargePoint("three", max: 32), Sites.chargePoint("one", phases: 1, max: 32)],
            sliderKW: 11)
        var sim = SiteSimulator(model)
        sim.cars = ["three": SimCar(phases: 3), "one": SimCar(phases: 1)]
        let d = sim.run(seconds: 30).last!
        let three = try #require(d.setpoint("three"))
        let one = try #require(d.setpoint("one"))
        #expect(three.current > 6)
        // Equal up to the 0.1 A steps the rounding remainder hands out (cheaper ones fit more often).
        #expect(abs(three.current - one.current) <= 0.35)
        #expect(abs(three.power - 3 * one.power) <= 3 * 230 * 0.35)
        #expect(three.reason == .limitedBy(.budget))
    }

    @Test func surplusGoesToTheLowestCurrentAndShortageIsTakenFromTheHighest() throws {
        let model = try Sites.single(
            limit: 36,
            chargePoints: [Sites.chargePoint("a", max: 10), Sites.chargePoint("b", max: 32), Sites.chargePoint("c", max: 32)])
        var sim = SiteSimulator(model)
        sim.cars = ["a": SimCar(), "b": SimCar(), "c": SimCar()]
        sim.run(seconds: 3)
        // a stops at its maximum; what it cannot take goes to b and c.
        #expect(sim.decision?.current("a") == 10)
        #expect(sim.decision?.current("b") == 13)
        #expect(sim.decision?.current("c") == 13)
        #expect(sim.decision?.setpoint("a")?.reason == .atMaximum)

        // A 6 A household load appears: the shortage comes from b and c first.
        sim.household["main"] = PhaseCurrents(repeating: 6)
        sim.run(seconds: 3)
        #expect(sim.decision?.current("a") == 10)
        #expect(sim.decision?.current("b") == 10)
        #expect(sim.decision?.current("c") == 10)

        // More: now all three give up the same.
        sim.household["main"] = PhaseCurrents(repeating: 9)
        sim.run(seconds: 3)
        for id in ["a", "b", "c"] { #expect(sim.decision?.current(id) == 9) }
    }

    @Test func manualModeIsFixedButStaysUnderEveryLimit() throws {
        let model = try Sites.single(
            limit: 20,
            chargePoints: [Sites.chargePoint("manual", max: 32, mode: .manual, manual: 16), Sites.chargePoint("auto", max: 32)])
        var sim = SiteSimulator(model)
        sim.cars = ["manual": SimCar()]
        sim.run(seconds: 2)
        #expect(sim.decision?.current("manual") == 16)
        #expect(sim.decision?.setpoint("manual")?.reason == .atMaximum)

        // The automatic car gets its minimum; the manual one yields only what the breaker requires.
        sim.cars["auto"] = SimCar()
        sim.run(seconds: 3)
        #expect(sim.decision?.current("manual") == 14)
        #expect(sim.decision?.current("auto") == 6)

        // A household load: manual is capped by the breaker, never above it.
        sim.cars["auto"] = nil
        sim.household["main"] = PhaseCurrents(repeating: 9)
        sim.run(seconds: 3)
        #expect(sim.decision?.current("manual") == 11)
        #expect(sim.decision?.setpoint("manual")?.reason == .limitedBy(.breaker(node: "main", phase: 1)))
    }

    @Test func phaseRotationSpreadsSinglePhaseCarsOverThePhases() throws {
        func run(_ rotations: [PhaseRotation]) throws -> Decision {
            let cps = rotations.enumerated().map { Sites.chargePoint("cp\($0.offset + 1)", rotation: $0.element, phases: 1) }
            var sim = SiteSimulator(try Sites.single(limit: 16, chargePoints: cps, preset: .residential))
            for cp in cps { sim.cars[cp.id] = SimCar(phases: 1) }
            return sim.run(seconds: 5).last!
        }
        let rotated = try run([.l1l2l3, .l2l3l1, .l3l1l2])
        #expect(rotated.setpoints.map(\.current) == [16, 16, 16])
        #expect(rotated.nodes[0].expected == PhaseCurrents(16, 16, 16))

        // All on L1: the third car's minimum no longer fits on L1.
        let stacked = try run([.l1l2l3, .l1l2l3, .l1l2l3])
        #expect(stacked.setpoints.map(\.current) == [8, 8, 0])
        #expect(stacked.nodes[0].expected == PhaseCurrents(16, 0, 0))
    }

    @Test func aFullPhaseHoldsOnlyTheCarsOnThatPhase() throws {
        // 10 A of house load on L1: the car on L1 is held at 6 A, the one on L2 goes on to its maximum.
        let model = try Sites.single(
            limit: 16,
            chargePoints: [
                Sites.chargePoint("onL1", rotation: .l1l2l3, phases: 1, max: 32),
                Sites.chargePoint("onL2", rotation: .l2l3l1, phases: 1, max: 20),
            ])
        var sim = SiteSimulator(model)
        sim.household["main"] = PhaseCurrents(10, 0, 0)
        sim.cars = ["onL1": SimCar(phases: 1), "onL2": SimCar(phases: 1)]
        let d = sim.run(seconds: 3).last!
        #expect(d.current("onL1") == 6)
        #expect(d.setpoint("onL1")?.reason == .limitedBy(.breaker(node: "main", phase: 1)))
        #expect(d.current("onL2") == 16)
        #expect(d.setpoint("onL2")?.reason == .limitedBy(.breaker(node: "main", phase: 2)))
    }

    @Test func aVirtualMeterLimitsTheSumOfItsChargePoints() throws {
        let model = try SiteModel(
            config: SiteConfig(
                preset: .hub, budget: BudgetConfig(sliderKW: 100), timing: Sites.immediate,
                site: PanelConfig(
                    id: "main", currentLimit: PhaseLimit(63), meter: .device("grid"),
                    panels: [
                        PanelConfig(
                            id: "carport", currentLimit: PhaseLimit(20), meter: .virtual,
                            chargePoints: [Sites.chargePoint("cp1"), Sites.chargePoint("cp2")])
                    ])))
        var sim = SiteSimulator(model)
        sim.cars = ["cp1": SimCar(), "cp2": SimCar()]
        let d = sim.run(seconds: 3).last!
        #expect(d.current("cp1") == 10)
        #expect(d.current("cp2") == 10)
        #expect(d.setpoint("cp1")?.reason == .limitedBy(.breaker(node: "carport", phase: 1)))
        let carport = try #require(d.nodes.first { $0.node == "carport" })
        #expect(carport.meterFresh)
        #expect(carport.expected == PhaseCurrents(repeating: 20))
    }

    @Test func parallelPanelsAreSolvedTogetherUnderTheirCommonParent() throws {
        // Panel A (12 A) holds two cars, panel B (32 A) one; the main connection has
        // 32 A of which the house takes 10. A's cars are held at 6 A by A's breaker;
        // B's car gets what the main connection has left, not a greedy first share.
        let model = try SiteModel(
            config: SiteConfig(
                preset: .hub, budget: BudgetConfig(sliderKW: 100), timing: Sites.immediate,
                site: PanelConfig(
                    id: "main", currentLimit: PhaseLimit(32), meter: .device("grid"),
                    panels: [
                        PanelConfig(
                            id: "a", currentLimit: PhaseLimit(12), meter: .virtual,
                            chargePoints: [Sites.chargePoint("a1", max: 32), Sites.chargePoint("a2", max: 32)]),
                        PanelConfig(
                            id: "b", currentLimit: PhaseLimit(32), meter: .device("meter_b"),
                            chargePoints: [Sites.chargePoint("b1", max: 32)]),
                    ])))
        var sim = SiteSimulator(model)
        sim.household["main"] = PhaseCurrents(repeating: 10)
        sim.cars = ["a1": SimCar(), "a2": SimCar(), "b1": SimCar()]
        let d = sim.run(seconds: 4).last!
        #expect(d.current("a1") == 6)
        #expect(d.current("a2") == 6)
        #expect(d.current("b1") == 10)
        #expect(d.setpoint("b1")?.reason == .limitedBy(.breaker(node: "main", phase: 1)))
        #expect(d.nodes[0].expected == PhaseCurrents(repeating: 32))
    }

    @Test func priorityDecidesWhichCarStartsWhenOnlyOneFits() throws {
        let model = try Sites.single(
            limit: 10, chargePoints: [Sites.chargePoint("cp1"), Sites.chargePoint("cp2", priority: 5)])
        var sim = SiteSimulator(model)
        sim.cars = ["cp1": SimCar(), "cp2": SimCar()]
        sim.step()
        #expect(sim.decision?.current("cp2") == 10)
        #expect(sim.decision?.current("cp1") == 0)

        // Equal priorities: point 1 first.
        sim.state.settings.priorities["cp2"] = 0
        sim.cars = [:]
        sim.step()
        sim.cars = ["cp1": SimCar(), "cp2": SimCar()]
        sim.step()
        #expect(sim.decision?.current("cp1") == 10)
        #expect(sim.decision?.current("cp2") == 0)
    }

    @Test func remainderOfWholeAmpereStepsGoesFromPointOneUpward() throws {
        var cps = [Sites.chargePoint("cp1"), Sites.chargePoint("cp2"), Sites.chargePoint("cp3")]
        for i in cps.indices { cps[i].currentStep = 1 }
        var sim = SiteSimulator(try Sites.single(limit: 20, chargePoints: cps))
        sim.cars = ["cp1": SimCar(), "cp2": SimCar(), "cp3": SimCar()]
        let d = sim.run(seconds: 3).last!
        // 20 / 3 = 6.67 A: whole amperes 6, 6, 6 and the 2 A left go to cp1, then cp2.
        #expect(d.setpoints.map(\.current) == [7, 7, 6])
    }

    @Test func offModeAndUnpluggedPointsGetNothing() throws {
        let model = try Sites.single(limit: 32, chargePoints: [Sites.chargePoint("cp1", mode: .off), Sites.chargePoint("cp2")])
        var sim = SiteSimulator(model)
        sim.cars = ["cp1": SimCar()]
        let d = sim.step()
        #expect(d.setpoint("cp1")?.reason == .modeOff)
        #expect(d.setpoint("cp2")?.reason == .noCar)
        #expect(d.setpoints.map(\.current) == [0, 0])
    }
}
