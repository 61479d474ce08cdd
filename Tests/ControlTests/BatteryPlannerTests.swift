import Foundation
import Testing

@testable import Control

/// The battery planner alone (pure, time injected): charge from the surplus, SoC bounds,
/// self-consumption above the reserve, only the peak below it, never into the cars, and
/// one odd pair of readings (meter and report read apart) not taken as a change.
@Suite struct BatteryPlannerTests {
    static let config = BatteryConfig(meter: "inv", maxChargeW: 3000, maxDischargeW: 4000, minSoC: 10, reserveSoC: 30, maxSoC: 95)
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // a quarter boundary (divisible by 900)

    static func budget(at t: Date, aimW: Double = 5000) -> BudgetFigures {
        let start = Date(timeIntervalSince1970: (t.timeIntervalSince1970 / 900).rounded(.down) * 900)
        return BudgetFigures(
            sliderW: aimW, targetW: aimW, aimW: aimW, monthPeakW: 0, quarterStart: start, quarterEnd: start + 900,
            energySoFarWh: 0, allowedRestW: aimW, toleratedRestW: aimW, householdW: 0, householdEstimateW: 0, forecastW: 0,
            source: .integrated, meterFresh: true)
    }

    func step(_ s: inout BatteryPlannerState, at seconds: Double, grid: Double, battery: Double, soc: Double,
              cars: Double = 0, surplus: Double = 0, readAt: Double? = nil) -> BatteryLimits? {
        let now = Self.t0 + seconds
        return BatteryPlanner.step(&s, config: Self.config, inputs: BatteryPlanner.Inputs(
            now: now, gridW: grid, batteryW: battery, soc: soc, carsW: cars, surplusW: surplus, budget: Self.budget(at: now),
            batteryTime: readAt.map { Self.t0 + $0 }))
    }

    @Test func chargesFromTheSurplusUpToItsMaximumAndNotAboveMaxSoC() {
        var s = BatteryPlannerState()
        #expect(step(&s, at: 0, grid: -2000, battery: 0, soc: 50, surplus: 2000)?.maxChargeW == 2000)
        #expect(step(&s, at: 1, grid: -5000, battery: -2000, soc: 50, surplus: 7000)?.maxChargeW == 3000)
        let full = step(&s, at: 2, grid: -5000, battery: 0, soc: 95, surplus: 5000)
        #expect(full?.maxChargeW == 0 && full?.chargeReason == "full")
    }

    @Test func aChargeFallNeedsTwoCycles() {
        var s = BatteryPlannerState()
        _ = step(&s, at: 0, grid: -1000, battery: -2000, soc: 50, surplus: 3000)
        // One cycle whose report says it charges nothing (stale): the limit holds.
        #expect(step(&s, at: 10, grid: 0, battery: 0, soc: 50, surplus: 0)?.maxChargeW == 3000)
        #expect(step(&s, at: 11, grid: 0, battery: 0, soc: 50, surplus: 0)?.maxChargeW == 0)
    }

    /// The battery read apart from the meter (every 10 s): after a new charge limit, a report
    /// taken before the battery could follow it says nothing of the surplus; a fall waits for
    /// one taken `followSeconds` after the change.
    @Test func aChargeFallWaitsForAReportTakenAfterTheBatteryFollowed() {
        var s = BatteryPlannerState()
        #expect(step(&s, at: 0, grid: -3000, battery: 0, soc: 50, surplus: 3000, readAt: 0)?.maxChargeW == 3000)
        // The battery now takes the export: the meter reads 0, the report (from 0 s) says it charges nothing.
        for t in 1...9 {
            let held = step(&s, at: Double(t), grid: 0, battery: 0, soc: 50, surplus: 0, readAt: 0)
            #expect(held?.maxChargeW == 3000 && held?.chargeReason == "surplus", "at \(t) s: \(String(describing: held))")
        }
        // A report from 10 s that it charges 3 kW: the surplus is there, nothing falls.
        #expect(step(&s, at: 10, grid: 0, battery: -3000, soc: 50, surplus: 3000, readAt: 10)?.maxChargeW == 3000)
        // A cloud, confirmed by a report taken after the battery followed: the limit falls.
        _ = step(&s, at: 20, grid: 0, battery: 0, soc: 50, surplus: 0, readAt: 20)
        let fallen = step(&s, at: 21, grid: 0, battery: 0, soc: 50, surplus: 0, readAt: 20)
        #expect(fallen?.maxChargeW == 0 && fallen?.chargeReason == "no_surplus")
    }

    @Test func coversTheHouseholdAboveTheReserveButNotTheCars() {
        var s = BatteryPlannerState()
        // Importing 1.5 kW with the battery giving 1 kW and a car drawing 2 kW: household 0.5 kW.
        _ = step(&s, at: 0, grid: 1500, battery: 1000, soc: 60, cars: 2000)
        let d = step(&s, at: 1, grid: 1500, battery: 1000, soc: 60, cars: 2000)
        #expect(d?.maxDischargeW == 500 && d?.dischargeReason == "self_consumption")
        // Only the car imports: nothing.
        let cars = step(&s, at: 2, grid: 2000, battery: 0, soc: 60, cars: 2000)
        #expect(cars?.maxDischargeW == 0 && cars?.dischargeReason == "cars")
    }

    @Test func belowTheReserveOnlyThePeakAndNothingAtMinSoC() {
        var s = BatteryPlannerState()
        // 3 kW household under a 5 kW aim: below the reserve, nothing.
        _ = step(&s, at: 0, grid: 3000, battery: 0, soc: 20)
        let quiet = step(&s, at: 1, grid: 3000, battery: 0, soc: 20)
        #expect(quiet?.maxDischargeW == 0 && quiet?.dischargeReason == "reserve")
        // 8 kW: the quarter may average 5 kW; it discharges the excess (two cycles to rise).
        _ = step(&s, at: 2, grid: 8000, battery: 0, soc: 20)
        let peak = step(&s, at: 3, grid: 8000, battery: 0, soc: 20)
        #expect(peak?.dischargeReason == "peak")
        #expect((peak?.maxDischargeW ?? 0) > 2900 && (peak?.maxDischargeW ?? 0) < 3100, "\(String(describing: peak))")
        let empty = step(&s, at: 4, grid: 8000, battery: 0, soc: 10)
        #expect(empty?.maxDischargeW == 0 && empty?.dischargeReason == "empty")
    }

    @Test func oneOddReadingDoesNotRaiseTheDischarge() {
        var s = BatteryPlannerState()
        _ = step(&s, at: 0, grid: 500, battery: 0, soc: 60)
        #expect(step(&s, at: 1, grid: 500, battery: 0, soc: 60)?.maxDischargeW == 500)
        // One reading pairs a fresh meter with an old report: 3 kW "household" for a second.
        #expect(step(&s, at: 2, grid: 500, battery: 2500, soc: 60)?.maxDischargeW == 500)
        #expect(step(&s, at: 3, grid: 500, battery: 0, soc: 60)?.maxDischargeW == 500)
    }
}
