import Foundation
import PhasorCore
import Testing

@testable import Control

/// From the gateway's readings to what control needs.
@Suite struct MeasurementTests {
    @Test func aP1ReadingGivesSignedPhaseCurrentsAndPower() {
        let reading = Reading(
            device: "p1", time: MeterTimestamp(date: t0, utcOffsetSeconds: 3600),
            values: [
                (Quantity.current.phase(1), .number(5)), (Quantity.current.phase(2), .number(7)),
                (Quantity.current.phase(3), .number(2)),
                (Quantity.powerImport.phase(1), .number(1150)), (Quantity.powerExport.phase(1), .number(0)),
                (Quantity.powerImport.phase(2), .number(0)), (Quantity.powerExport.phase(2), .number(1610)),
                (.powerImport, .number(1150)), (.powerExport, .number(1610)),
                (.powerImportQuarterHourAverage, .number(820)),
            ])
        let sample = MeterSample(reading: reading)
        #expect(sample.time == t0)
        // L2 exports PV: its current counts against the load.
        #expect(sample.currents == PhaseCurrents(5, -7, 2))
        #expect(sample.power == -460)
        #expect(sample.quarterHourAverage == 820)
        #expect(sample.monthPeak == nil)
    }

    @Test func aReadingWithoutAllThreeCurrentsHasNoCurrents() {
        let reading = Reading(
            device: "m", time: MeterTimestamp(date: t0, utcOffsetSeconds: 0),
            values: [(Quantity.current.phase(1), .number(5)), (.power, .number(300))])
        let sample = MeterSample(reading: reading)
        #expect(sample.currents == nil)
        #expect(sample.power == 300)
    }

    @Test func aPanelMeterWithoutCurrentsIsTreatedAsStale() throws {
        // Power alone cannot protect a breaker per phase: the subtree goes to safe currents.
        let model = try Sites.single(limit: 32, chargePoints: [Sites.chargePoint("cp1")])
        var state = ControlState(model: model)
        var m = Measurements()
        m.meters["grid"] = MeterSample(time: t0, power: 500)
        m.chargers["cp1"] = ChargerSample(time: t0, connected: true, currents: .zero)
        let d: Decision
        (state, d) = ControlCycle.run(state: state, model: model, measurements: m, now: t0)
        #expect(d.setpoint("cp1")?.reason == .meterStale(node: "main"))
        #expect(d.current("cp1") == 6)
    }

    @Test func theMetersMonthPeakRestoresTheTargetAfterARestart() throws {
        let model = try Sites.single(limit: 40, chargePoints: [Sites.chargePoint("cp1")], sliderKW: 4)
        var m = Measurements()
        let now = t0  // 10 March: well into the month
        m.meters["grid"] = MeterSample(time: now, currents: .zero, power: 0, monthPeak: 7200)
        m.chargers["cp1"] = ChargerSample(time: now, connected: false)
        let (_, d) = ControlCycle.run(state: ControlState(model: model), model: model, measurements: m, now: now)
        #expect(d.budget.monthPeakW == 7200)
        #expect(d.budget.targetW == 7200)
    }

    @Test func aVirtualMainConnectionBudgetsWhatItsChargePointsDraw() throws {
        let model = try SiteModel(
            config: SiteConfig(
                preset: .hub, budget: BudgetConfig(sliderKW: 5), timing: Sites.immediate,
                site: PanelConfig(
                    id: "parking", currentLimit: PhaseLimit(63), meter: .virtual,
                    chargePoints: [Sites.chargePoint("cp1", max: 32)])))
        var sim = SiteSimulator(model)
        sim.cars["cp1"] = SimCar()
        sim.run(seconds: 900)
        #expect(sim.closedQuarterAverages.count == 1)
        #expect(sim.closedQuarterAverages[0] <= 5000)
        #expect(sim.closedQuarterAverages[0] >= 4700)
        #expect(sim.decision!.budget.energySoFarWh == 0)
    }
}
