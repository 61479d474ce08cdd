import Foundation
import Testing

@testable import Control

/// Which waiting car starts when room frees up for only one of them.
@Suite struct AdmissionOrderTests {
    /// First come, first served among equal priorities: a three-phase car waiting since
    /// before a single-phase one on a lower-numbered point starts first (it used to be
    /// overtaken by every later car that fitted, acceptance seed 30965).
    @Test func theCarWaitingLongestStartsFirstWhenRoomForOneFreesUp() throws {
        let model = try Sites.single(
            limit: 20, chargePoints: [Sites.chargePoint("a", phases: 1), Sites.chargePoint("b")])
        var sim = SiteSimulator(model)
        sim.household["main"] = PhaseCurrents(repeating: 18)
        sim.cars["b"] = SimCar()
        sim.run(seconds: 10)
        sim.cars["a"] = SimCar(phases: 1)
        sim.run(seconds: 10)
        #expect(sim.decision!.current("a") == 0 && sim.decision!.current("b") == 0)
        // Room for one minimum (11 A on every phase), not for two on L1.
        sim.household["main"] = PhaseCurrents(repeating: 9)
        sim.run(seconds: 40)
        #expect(sim.decision!.current("b") >= 6, "the car waiting longest")
        #expect(sim.decision!.current("a") == 0)
    }

    /// Priority still comes before waiting time.
    @Test func aHigherPriorityStillStartsBeforeACarWaitingLonger() throws {
        let model = try Sites.single(
            limit: 20, chargePoints: [Sites.chargePoint("a", phases: 1, priority: 10), Sites.chargePoint("b")])
        var sim = SiteSimulator(model)
        sim.household["main"] = PhaseCurrents(repeating: 18)
        sim.cars["b"] = SimCar()
        sim.run(seconds: 10)
        sim.cars["a"] = SimCar(phases: 1)
        sim.run(seconds: 10)
        sim.household["main"] = PhaseCurrents(repeating: 9)
        sim.run(seconds: 40)
        #expect(sim.decision!.current("a") >= 6)
        #expect(sim.decision!.current("b") == 0)
    }
}
