import Foundation
import Testing

@testable import Control

/// Minimum run and pause times, hysteresis, phase detection and 1p/3p switching.
@Suite struct AntiFlapTests {
    /// A 6 kW export on a sunny day (PV minus house), as a per-phase current.
    static let sunny = PhaseCurrents(repeating: -6000.0 / 690)
    static let cloudy = PhaseCurrents(repeating: 300.0 / 690)

    @Test func aSolarCarRunsItsMinimumTimeAndPausesItsMinimumTime() throws {
        let model = try Sites.single(
            limit: 40, chargePoints: [Sites.chargePoint("pv", max: 32, mode: .solar)], preset: .residential,
            sliderKW: 10, timing: TimingConfig(minRunSeconds: 300, minPauseSeconds: 120, hysteresisA: 1))
        var sim = SiteSimulator(model)
        sim.household["main"] = Self.sunny
        sim.cars["pv"] = SimCar()
        sim.run(seconds: 30)
        // Only the export: 6 kW / 690 W/A ≈ 8.7 A (above the 8 A start threshold).
        let sunnyCurrent = sim.decision!.current("pv")
        #expect(sunnyCurrent >= 8 && sunnyCurrent <= 8.7)
        #expect(sim.decision!.setpoint("pv")?.reason == .limitedBy(.surplus))

        // Clouds at t = 30 s: the car was started at t = 1 s and must run until t = 301 s.
        sim.household["main"] = Self.cloudy
        var stoppedAt: Date?
        for _ in 0..<400 {
            let d = sim.step()
            if d.current("pv") == 0 {
                stoppedAt = sim.now
                #expect(d.setpoint("pv")?.reason == .stopped(.surplus))
                break
            }
            #expect(d.current("pv") >= 6)
        }
        let stop = try #require(stoppedAt)
        #expect(stop >= t0.addingTimeInterval(301))

        // The sun is back at once: no restart before the 120 s pause is over.
        sim.household["main"] = Self.sunny
        var restartedAt: Date?
        for _ in 0..<400 {
            let d = sim.step()
            if d.current("pv") > 0 {
                restartedAt = sim.now
                break
            }
        }
        let restart = try #require(restartedAt)
        #expect(restart >= stop.addingTimeInterval(120))
    }

    @Test func aStartedCarIsKeptAtItsMinimumWhenTheBudgetTightensWithinItsRunTime() throws {
        let model = try Sites.single(
            limit: 40, chargePoints: [Sites.chargePoint("cp1", max: 32)], sliderKW: 6,
            timing: TimingConfig(minRunSeconds: 300, minPauseSeconds: 0, hysteresisA: 0))
        var sim = SiteSimulator(model)
        sim.cars["cp1"] = SimCar()
        sim.run(seconds: 10)
        #expect(sim.decision!.current("cp1") > 6)
        sim.state.settings.sliderKW = 2.5  // 2.5 kW: a three-phase minimum (4.14 kW) no longer fits
        sim.step()
        let d = try #require(sim.decision)
        #expect(d.current("cp1") == 6)
        guard case .keptAtMinimum(.budget, let until) = d.setpoint("cp1")?.reason else {
            Issue.record("expected keptAtMinimum, got \(String(describing: d.setpoint("cp1")?.reason))")
            return
        }
        #expect(until == t0.addingTimeInterval(301))
    }

    @Test func hysteresisKeepsNoiseFromMovingTheSetpoint() throws {
        func changes(hysteresis: Double) throws -> Int {
            let model = try Sites.single(
                limit: 16, chargePoints: [Sites.chargePoint("cp1", max: 32)],
                timing: TimingConfig(
                    minRunSeconds: 0, minPauseSeconds: 0, hysteresisA: hysteresis, increaseIntervalSeconds: 0,
                    breakerMarginA: 0, viewWindowSeconds: 0))
            var sim = SiteSimulator(model)
            sim.cars["cp1"] = SimCar()
            var setpoints: [Double] = []
            for second in 0..<120 {
                // ±0.4 A of household noise around 3 A.
                sim.household["main"] = PhaseCurrents(repeating: second % 2 == 0 ? 2.6 : 3.4)
                setpoints.append(sim.step().current("cp1"))
            }
            return zip(setpoints.dropFirst(10), setpoints.dropFirst(11)).filter { $0 != $1 }.count
        }
        #expect(try changes(hysteresis: 1) == 0)
        #expect(try changes(hysteresis: 0) > 50)
    }

    @Test func aSinglePhaseCarOnAThreePhaseChargerIsDetectedAndGetsItsShare() throws {
        // 4.6 kW for the car: 6.67 A if it used three phases, 20 A on one.
        let model = try Sites.single(limit: 32, chargePoints: [Sites.chargePoint("cp1", max: 32)], sliderKW: 4.6)
        var sim = SiteSimulator(model)
        sim.cars["cp1"] = SimCar(phases: 1)
        sim.run(seconds: 5)
        #expect(sim.decision!.setpoint("cp1")?.phases == 3)
        let assumed = sim.decision!.current("cp1")
        sim.run(seconds: 30)
        let d = try #require(sim.decision)
        #expect(d.setpoint("cp1")?.phases == 1)
        #expect(d.current("cp1") >= 2.8 * assumed)
        #expect(sim.state.sessions["cp1"]?.detectedPhases == 1)

        // Unplugged: the next car is not assumed to be single-phase.
        sim.cars = [:]
        sim.step()
        #expect(sim.state.sessions["cp1"]?.detectedPhases == nil)
        #expect(sim.state.sessions["cp1"]?.phases == 3)
    }

    @Test func aSwitchingChargerStartsOnOnePhaseAndSwitchesUpWhenThereIsRoom() throws {
        let model = try Sites.single(
            limit: 32, chargePoints: [Sites.chargePoint("cp1", max: 16, switching: true)], sliderKW: 3,
            timing: TimingConfig(minRunSeconds: 0, minPauseSeconds: 0, hysteresisA: 0, phaseSwitchSeconds: 60))
        var sim = SiteSimulator(model)
        sim.cars["cp1"] = SimCar()
        sim.run(seconds: 5)
        // 3 kW: three phases need 4.14 kW at 6 A, one phase takes 13 A.
        let onePhase = try #require(sim.decision?.setpoint("cp1"))
        #expect(onePhase.phases == 1)
        #expect(onePhase.current >= 12 && onePhase.current <= 13.1)

        sim.state.settings.sliderKW = 12
        sim.run(seconds: 30)
        #expect(sim.decision?.setpoint("cp1")?.phases == 1)  // not within a minute of the last switch
        sim.run(seconds: 40)
        let threePhase = try #require(sim.decision?.setpoint("cp1"))
        #expect(threePhase.phases == 3)
        #expect(threePhase.current == 16)
    }
}
