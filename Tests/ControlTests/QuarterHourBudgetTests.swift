import Foundation
import Testing

@testable import Control

/// Product spec §2, "The energy slider and the capacity tariff", on virtual time
/// with a telegram every second.
@Suite struct QuarterHourBudgetTests {
    /// 40 A main connection, a 1 kW house, one three-phase car, slider 7 kW
    /// (aim 6.8 kW: 5.8 kW for the car, above its 5.52 kW start minimum at 8 A).
    func site(sliderKW: Double = 7, timing: TimingConfig = TimingConfig()) throws -> SiteModel {
        try SiteModel(
            config: SiteConfig(
                budget: BudgetConfig(sliderKW: sliderKW), timing: timing,
                site: PanelConfig(
                    id: "main", currentLimit: PhaseLimit(40), meter: .device("grid"),
                    chargePoints: [Sites.chargePoint("car", max: 32)])))
    }

    static let house = PhaseCurrents(repeating: 1000.0 / 690)
    /// A 2.3 kW kettle on L1.
    static let kettle = PhaseCurrents(10, 0, 0)

    /// Two quarters plus a minute, a kettle for three minutes in the first one.
    func runTwoQuarters(_ sim: inout SiteSimulator) -> [Decision] {
        sim.household["main"] = Self.house
        sim.cars["car"] = SimCar()
        var decisions: [Decision] = []
        for second in 1...(2 * 900 + 60) {
            let kettleOn = (300..<480).contains(second)
            sim.household["main"] = kettleOn ? Self.house + Self.kettle : Self.house
            decisions.append(sim.step())
        }
        return decisions
    }

    @Test func aWholeQuarterStaysUnderTheSliderAndAKettleDoesNotStopTheCar() throws {
        var sim = SiteSimulator(try site())
        let decisions = runTwoQuarters(&sim)

        // The car starts at once and is never stopped, kettle or quarter boundary.
        #expect(decisions.dropFirst(1).allSatisfy { $0.current("car") >= 6 })
        // It does give way while the kettle boils.
        let beforeKettle = decisions[290].current("car")
        let duringKettle = decisions[470].current("car")
        #expect(duringKettle < beforeKettle)

        // Every closed quarter stays under the slider, and uses most of it.
        #expect(sim.closedQuarterAverages.count == 2)
        for average in sim.closedQuarterAverages {
            #expect(average <= 7000)
            #expect(average >= 6500)
        }
        #expect(decisions.last?.budget.source == .meterAverage)
    }

    @Test func theRepeatedPreviousQuarterValueAfterTheBoundaryIsIgnored() throws {
        var sim = SiteSimulator(try site())
        let decisions = runTwoQuarters(&sim)
        // 5 s into the second quarter the meter still repeats ≈ 6.8 kW (1700 Wh if believed).
        let justAfter = decisions[904]
        #expect(justAfter.budget.quarterStart == t0.addingTimeInterval(900))
        #expect(justAfter.budget.energySoFarWh < 20)
        #expect(justAfter.budget.source == .integrated)
        #expect(justAfter.current("car") > 6)
        // Once the meter's own running average is back, it is used.
        #expect(decisions[930].budget.source == .meterAverage)
    }

    @Test func aMeterWithoutTheRunningAverageIsIntegrated() throws {
        var sim = SiteSimulator(try site())
        sim.sendsQuarterAverage = false
        let decisions = runTwoQuarters(&sim)
        #expect(decisions.allSatisfy { $0.budget.source == .integrated })
        #expect(decisions.dropFirst(1).allSatisfy { $0.current("car") >= 6 })
        for average in sim.closedQuarterAverages {
            #expect(average <= 7000)
            #expect(average >= 6500)
        }
    }

    @Test func theEnergyAlreadyUsedIsBudgetedNotTheInstantPower() throws {
        // Slider 9 kW. The house drew 11 kW for the first half of the quarter, then 1 kW.
        // A car plugging in at half time may only use what keeps the quarter under 9 kW.
        var sim = SiteSimulator(try site(sliderKW: 9))
        sim.household["main"] = PhaseCurrents(repeating: 11000.0 / 690)
        sim.run(seconds: 450)
        sim.household["main"] = Self.house
        sim.cars["car"] = SimCar()
        sim.run(seconds: 455)
        #expect(sim.closedQuarterAverages.count == 1)
        #expect(sim.closedQuarterAverages[0] <= 9000)
        #expect(sim.closedQuarterAverages[0] >= 8500)
        // Steering on the instant power alone would have given the car 7.8 kW and
        // ended the quarter near 9.9 kW.
    }

    @Test func theMonthsPeakIsFollowedAndResetAtTheMonthBoundary() throws {
        // 31 March 2026, 23:30 in Brussels (UTC+2). No car: only the house.
        let start = Date(timeIntervalSince1970: 1_774_992_600)
        var sim = SiteSimulator(try site(sliderKW: 3), start: start)
        sim.household["main"] = PhaseCurrents(repeating: 5000.0 / 690)
        sim.run(seconds: 900)
        sim.household["main"] = Self.house
        sim.run(seconds: 890)
        // A 5 kW quarter happened this month: it is paid already, so it becomes the target.
        let march = try #require(sim.decision?.budget)
        #expect(abs(march.monthPeakW - 5000) < 10)
        #expect(march.targetW == march.monthPeakW)

        sim.run(seconds: 20)  // across midnight: 1 April
        let april = try #require(sim.decision?.budget)
        #expect(april.monthPeakW == 0)
        #expect(april.targetW == 3000)
    }

    @Test func theTargetNeverGoesBelowTheBillingFloor() throws {
        var sim = SiteSimulator(try site(sliderKW: 1))
        sim.household["main"] = Self.house
        sim.cars["car"] = SimCar()
        sim.run(seconds: 60)
        let budget = try #require(sim.decision?.budget)
        #expect(budget.sliderW == 1000)
        #expect(budget.targetW == 2500)
        // 2.5 kW − 0.2 kW margin − 1 kW house: 1.3 kW, below a three-phase car's 4.14 kW minimum.
        #expect(sim.decision?.current("car") == 0)
        #expect(sim.decision?.setpoint("car")?.reason == .waitingForPower(.budget))
    }

    @Test func theSliderIsReadFromTheSettingsEachCycle() throws {
        var sim = SiteSimulator(try site(sliderKW: 6))
        sim.household["main"] = Self.house
        sim.cars["car"] = SimCar()
        sim.run(seconds: 30)
        let before = sim.decision!.current("car")
        sim.state.settings.sliderKW = 10
        sim.run(seconds: 30)
        #expect(sim.decision!.current("car") > before + 3)
        #expect(sim.decision?.budget.sliderW == 10000)
    }
}
