import Foundation
import Testing

@testable import Control

/// The house's noise estimate that raises, starts and running minimums keep clear of
/// (`HouseNoise`, `Sequencing.margins`, `Sequencing.stopMargins`).
@Suite struct HouseNoiseTests {
    static let t0 = Date(timeIntervalSince1970: 1_760_000_000)

    /// Feeds one view per second and returns the estimate.
    static func estimate(_ views: [PhaseCurrents]) -> HouseNoise {
        var noise = HouseNoise(time: t0, currents: views[0])
        for (k, v) in views.enumerated().dropFirst() { noise.add(time: t0.addingTimeInterval(Double(k)), currents: v) }
        return noise
    }

    @Test func aQuietHouseWithStepsReadsNoNoise() {
        // A kettle on and off, a heat pump starting: steps of the house, not noise.
        var views = [PhaseCurrents](repeating: PhaseCurrents(5, 3, 2), count: 30)
        for k in 8..<14 { views[k][0] += 9 }
        for k in 20..<30 { views[k][1] += 4 }
        #expect(Self.estimate(views).sigma == .zero)
    }

    @Test func theNoiseOfSeveralLoadsIsMeasured() {
        // Four loads of ±0.3 A each on L1 (σ = 0.35 A), none on L2; a step of 6 A among them.
        var state: UInt64 = 2026
        func uniform() -> Double {  // SplitMix64, so every run sees the same noise
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53) * 0.6 - 0.3
        }
        var views: [PhaseCurrents] = []
        for k in 0..<21 {
            let l1 = (0..<4).reduce(10.0) { s, _ in s + uniform() }
            views.append(PhaseCurrents(l1 + (k >= 12 ? 6 : 0), 4, 2))
        }
        let sigma = Self.estimate(views).sigma
        #expect(sigma[0] > 0.15 && sigma[0] < 0.7, "σ L1 \(sigma[0])")
        #expect(sigma[1] == 0 && sigma[2] == 0)
    }

    @Test func notUsedBeforeAFewReadings() {
        let views = [PhaseCurrents(5, 3, 2), PhaseCurrents(6, 3, 2), PhaseCurrents(5, 3, 2), PhaseCurrents(6, 3, 2)]
        #expect(Self.estimate(views).sigma == .zero)
        let repeated = HouseNoise(time: Self.t0, currents: PhaseCurrents(5, 3, 2))
        var same = repeated
        same.add(time: Self.t0, currents: PhaseCurrents(9, 9, 9))  // the same reading again: not a step
        #expect(same == repeated)
    }

    @Test func marginsAreTheBreakerMarginOrTwoSigmas() throws {
        let model = try SiteModel(
            config: SiteConfig(
                preset: .residential, budget: BudgetConfig(sliderKW: 100, marginKW: 0),
                timing: TimingConfig(breakerMarginA: 0.5),
                site: PanelConfig(
                    id: "main", currentLimit: PhaseLimit(32), meter: .device("grid"),
                    chargePoints: [Sites.chargePoint("cp1", max: 32)])))
        var views: [PhaseCurrents] = []
        for k in 0..<21 { views.append(PhaseCurrents(10 + (k % 2 == 0 ? 0.6 : -0.6), 4, 2)) }
        let noise = ["main": Self.estimate(views)]
        let sigma = noise["main"]!.sigma
        #expect(abs(sigma[0] - 1.2 / HouseNoise.medianStepPerSigma) < 1e-9)
        let margins = Sequencing.margins(noise, model: model)
        #expect(abs(margins[0][0] - 2 * sigma[0]) < 1e-9)
        #expect(margins[0][1] == 0.5 && margins[0][2] == 0.5)
        #expect(Sequencing.stopMargins(noise, model: model)[0] == sigma)
        #expect(Sequencing.margins([:], model: model)[0] == PhaseCurrents(repeating: 0.5))
    }
}
