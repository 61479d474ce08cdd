import Foundation
import Testing

@testable import Control

/// A car lowered while still ramping up (cars rise over seconds: 2–10 A/s) passes through its
/// new, lower limit on its way to the old one, and may keep rising for the EV response time
/// before it follows. A report showing it at the new limit then proves nothing: it overloaded a
/// plant site when another car was started into the room it seemed to leave (seed 30817 of the
/// 1000-site run: 27 A → 13 A while the car drew 9 A; reported at 13.7 A, it rose to 23 A).
@Suite struct RampingCarLoweredTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func report(at s: Double, _ amps: Double) -> ChargerSample {
        ChargerSample(time: Self.t0 + s, connected: true, currents: PhaseCurrents(amps, 0, 0))
    }

    @Test func aCarLoweredWhileRampingKeepsItsOldLimitForTheResponseTime() {
        // Started at 27 A at 0 s; lowered to 13 A at 6 s while its report said 9 A (still rising).
        let changes = [
            SetpointChange(time: Self.t0, current: 27, drawnBefore: 0),
            SetpointChange(time: Self.t0 + 6, current: 13, drawnBefore: 9),
        ]
        let passing = CarResponse.allowance(at: Self.t0 + 8, changes: changes, setpoint: 13, report: report(at: 7.5, 13.7), response: 5)
        #expect(passing == 27, "a report at the new limit on the way up is no proof it follows it")
        // The response time past: the new limit.
        #expect(CarResponse.allowance(at: Self.t0 + 11.5, changes: changes, setpoint: 13, report: report(at: 11, 13), response: 5) == 13)
    }

    @Test func aCarLoweredFromItsOldLimitFollowsOnItsReport() {
        // Drew its 27 A when lowered to 13 A: a report at 13 A shows it came down.
        let changes = [
            SetpointChange(time: Self.t0, current: 27, drawnBefore: 0),
            SetpointChange(time: Self.t0 + 30, current: 13, drawnBefore: 26.8),
        ]
        #expect(CarResponse.allowance(at: Self.t0 + 32, changes: changes, setpoint: 13, report: report(at: 31.5, 13.2), response: 5) == 13.2, "what it draws, not its old 27 A")
    }
}
