import Foundation
import Testing

@testable import Control

/// Which waiting car starts when room frees up for only one of them.
@Suite struct AdmissionOrderTests {
    /// Point "a" (one phase, L1) and point "b" (three phases) under a 20 A main: the car on
    /// "b" plugs in first, the one on "a" 10 s later, both wait under 18 A of house load;
    /// then the house falls to 9 A, room for one minimum on L1 but not for two.
    static func roomForOneFreesUp(priorityOfA: Int = 0) throws -> Decision {
        let model = try Sites.single(
            limit: 20, chargePoints: [Sites.chargePoint("a", phases: 1, priority: priorityOfA), Sites.chargePoint("b")])
        var sim = SiteSimulator(model)
        sim.household["main"] = PhaseCurrents(repeating: 18)
        sim.cars["b"] = SimCar()
        sim.run(seconds: 10)
        sim.cars["a"] = SimCar(phases: 1)
        sim.run(seconds: 10)
        #expect(sim.decision!.current("a") == 0 && sim.decision!.current("b") == 0)
        sim.household["main"] = PhaseCurrents(repeating: 9)
        sim.run(seconds: 40)
        return sim.decision!
    }

    /// First come, first served among equal priorities: the three-phase car waiting since
    /// before the single-phase one on a lower-numbered point starts first (it used to be
    /// overtaken by every later car that fitted, acceptance seed 30965).
    @Test func theCarWaitingLongestStartsFirstWhenRoomForOneFreesUp() throws {
        let d = try Self.roomForOneFreesUp()
        #expect(d.current("b") >= 6, "the car waiting longest")
        #expect(d.current("a") == 0)
    }

    /// Priority still comes before waiting time.
    @Test func aHigherPriorityStillStartsBeforeACarWaitingLonger() throws {
        let d = try Self.roomForOneFreesUp(priorityOfA: 10)
        #expect(d.current("a") >= 6)
        #expect(d.current("b") == 0)
    }
}
