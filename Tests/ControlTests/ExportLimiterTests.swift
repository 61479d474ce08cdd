import Foundation
import Testing

@testable import Control

/// The export limiter alone (pure, time injected): lowering at once, not twice for one
/// excess while the inverter follows, raising by half the room after the settle time,
/// lifting at the rating, the safe limit on a stale meter, a phase exporting too much.
@Suite struct ExportLimiterTests {
    static let config = ExportLimitConfig(inverter: "pv", maxExportW: 3000, ratedPowerW: 10_000, marginW: 100, settleSeconds: 5)
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func step(_ s: inout ExportLimiterState, at seconds: Double, export: Double?, output: Double?,
              currents: PhaseCurrents? = nil) -> ExportLimitDecision {
        ExportLimiter.step(&s, config: Self.config, inputs: ExportLimiter.Inputs(
            now: Self.t0 + seconds, gridW: export.map { -$0 }, inverterW: output, rootCurrents: currents,
            rootLimit: currents.map { _ in PhaseCurrents(repeating: 25) }))
    }

    @Test func lowersOnceRaisesAfterSettlingAndLifts() {
        var s = ExportLimiterState()
        #expect(step(&s, at: 0, export: 2000, output: 5000).limitW == nil, "under the limit: free")
        // 6 kW exported from 9 kW: the output must drop by 3.1 kW.
        #expect(step(&s, at: 1, export: 6000, output: 9000).limitW == 5900)
        // The inverter has not followed yet (still 9 kW): the same excess, the same limit.
        #expect(step(&s, at: 2, export: 6000, output: 9000).limitW == 5900)
        // Followed: 2.9 kW exported: hold.
        #expect(step(&s, at: 4, export: 2900, output: 5900).reason == "settling")
        // The house takes 2 kW more: room 2 kW, raised by half once settled.
        #expect(step(&s, at: 6, export: 900, output: 5900).limitW == 6900)
        #expect(step(&s, at: 8, export: 1900, output: 6900).reason == "settling")
        #expect(step(&s, at: 12, export: 1900, output: 6900).limitW == 7400)
        // Less room than half the margin: stays.
        #expect(step(&s, at: 20, export: 2860, output: 7400).limitW == 7400)
        // A large room lifts it at the rating.
        var lifted = ExportLimitDecision(limitW: 0, reason: "")
        for k in 0..<10 { lifted = step(&s, at: 30 + Double(k) * 6, export: -5000, output: 7400) }
        #expect(lifted.limitW == nil && lifted.reason == "free")
    }

    @Test func aStaleMeterFallsToTheExportLimit() {
        var s = ExportLimiterState(limitW: 6000, changed: Self.t0)
        let d = step(&s, at: 10, export: nil, output: 6000)
        #expect(d.limitW == 3000 && d.reason == "meter_stale")
    }

    /// Found end to end: an inverter whose report overstates what it gives (here a battery
    /// it counts) left the limit where it was while the meter exported too much.
    @Test func aReportThatOverstatesTheOutputDoesNotStallTheLimit() {
        var s = ExportLimiterState(limitW: 3700, changed: Self.t0)
        // Meter: 3.2 kW exported; report: 4.2 kW (its real output is 3.7 kW).
        let d = step(&s, at: 10, export: 3200, output: 4200)
        #expect(d.limitW == 3400, "\(d)")
        // Not yet settled after a change: the report is trusted (no double lowering).
        var fresh = ExportLimiterState(limitW: 3700, changed: Self.t0)
        #expect(step(&fresh, at: 2, export: 3200, output: 4200).limitW == 3700)
    }

    @Test func aPhaseExportingMoreThanTheMainTakesLowersTheLimit() {
        var s = ExportLimiterState()
        // 2.5 kW total export, but L1 exports 27 A on a 25 A main.
        let d = step(&s, at: 0, export: 2500, output: 8000, currents: PhaseCurrents(-27, 8, 8))
        #expect(d.reason == "phase_export" && d.limitW == 8000 - 2 * 230 * 3)
    }
}
