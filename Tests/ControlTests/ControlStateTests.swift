import Foundation
import Testing

@testable import Control

/// The state is what the service persists and the decision is what it publishes.
@Suite struct ControlStateTests {
    @Test func theStateSurvivesAJSONRoundTripMidSession() throws {
        let model = try Sites.single(limit: 32, chargePoints: [Sites.chargePoint("cp1"), Sites.chargePoint("cp2")], sliderKW: 9)
        var sim = SiteSimulator(model)
        sim.cars = ["cp1": SimCar(phases: 1)]
        sim.run(seconds: 40)
        let data = try JSONEncoder().encode(sim.state)
        let restored = try JSONDecoder().decode(ControlState.self, from: data)
        #expect(restored == sim.state)
        #expect(restored.sessions["cp1"]?.detectedPhases == 1)
        #expect(restored.budget.quarterEnergy > 0)

        // Continuing from the restored state decides exactly as continuing from the original.
        let original = ControlCycle.run(state: sim.state, model: model, measurements: sim.measurements, now: sim.now + 1)
        let resumed = ControlCycle.run(state: restored, model: model, measurements: sim.measurements, now: sim.now + 1)
        #expect(original.decision == resumed.decision)
    }

    @Test func setpointsExplainThemselves() throws {
        let model = try Sites.single(limit: 13, chargePoints: [Sites.chargePoint("cp1"), Sites.chargePoint("cp2")], preset: .residential)
        var sim = SiteSimulator(model)
        sim.cars = ["cp1": SimCar(), "cp2": SimCar()]
        let d = sim.run(seconds: 2).last!
        #expect(d.setpoint("cp1")?.summary == "cp1: 13 A × 3 (shared evenly under the L1 limit of 'main')")
        #expect(d.setpoint("cp2")?.summary == "cp2: 0 A × 3 (waiting: the minimum does not fit under the L1 limit of 'main')")
        #expect(d.setpoint("cp1")?.power == 13.0 * 3 * 230)
    }
}
