import Foundation
import Testing

@testable import Control

/// Product spec §2, "Relays": the SG-Ready regimes, their dwell times per preset, the
/// 1 min hold when stepping down and the 2 h Off / 1 h Normal rule, on virtual time.
@Suite struct HeatPumpRegimeTests {
    static let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    static func rules(_ preset: Preset, regimes: [HeatPumpRegime] = HeatPumpRegime.allCases) -> HeatPumpRegimeMachine.Rules {
        HeatPumpRegimeMachine.Rules(
            config: HeatPumpConfig(relays: ["sg0", "sg1"], regimes: regimes, powerW: [.normal: 1500]), preset: preset)
    }

    /// Asks for `wanted` every second from `from` to `to` (s after t0); returns each change (s, regime).
    static func drive(_ m: inout HeatPumpRegimeMachine, wanted: HeatPumpRegime, from: Int, to: Int,
                      rules: HeatPumpRegimeMachine.Rules) -> [(Int, HeatPumpRegime)] {
        var changes: [(Int, HeatPumpRegime)] = []
        for s in from...to {
            let before = m.regime
            m.step(wanted: wanted, now: t0 + Double(s), rules: rules)
            if m.regime != before { changes.append((s, m.regime)) }
        }
        return changes
    }

    @Test func theContactPatternIsTheSGReadyLabels() {
        #expect(HeatPumpRegime.off.contacts == (true, false))
        #expect(HeatPumpRegime.normal.contacts == (false, false))
        #expect(HeatPumpRegime.comfort.contacts == (false, true))
        #expect(HeatPumpRegime.boost.contacts == (true, true))
    }

    @Test(arguments: [(Preset.residential, 300.0, 600.0, 300.0), (.hub, 600, 900, 600)])
    func steppingUpWaitsForEachDwell(preset: Preset, normal: Double, comfort: Double, boost: Double) {
        let rules = Self.rules(preset)
        // Off for a minute (entered downwards at t0), then boost is asked for at once.
        var m = HeatPumpRegimeMachine(regime: .normal, since: Self.t0 - 10_000)
        m.step(wanted: .off, now: Self.t0, rules: rules)
        #expect(m.regime == .off)
        let upEnd = 60 + Int(normal + comfort)
        let changes = Self.drive(&m, wanted: .boost, from: 1, to: upEnd, rules: rules)
        // Off holds 1 min (entered by stepping down), then one regime at a time.
        #expect(changes.map(\.1) == [.normal, .comfort, .boost])
        #expect(changes[0].0 == 60)
        #expect(Double(changes[1].0 - changes[0].0) == normal)
        #expect(Double(changes[2].0 - changes[1].0) == comfort)
        // Off is asked for the second Boost is reached: Boost holds its dwell, then each
        // regime down holds 1 min.
        let down = Self.drive(&m, wanted: .off, from: upEnd + 1, to: upEnd + 3600, rules: rules)
        #expect(down.map(\.1) == [.comfort, .normal, .off])
        #expect(Double(down[0].0 - changes[2].0) == boost)
        #expect(down[1].0 - down[0].0 == 60)
        #expect(down[2].0 - down[1].0 == 60)
    }

    @Test func offLastsAtMostTwoHoursThenNormalForAnHour() {
        let rules = Self.rules(.residential)
        var m = HeatPumpRegimeMachine(regime: .normal, since: Self.t0 - 10_000)
        var changes = Self.drive(&m, wanted: .off, from: 0, to: 4 * 3600, rules: rules)
        // Off at 0, back to Normal at 2 h whatever is asked, Off again only after 1 h of Normal.
        #expect(changes.count >= 3)
        #expect(changes[0] == (0, .off))
        #expect(changes[1] == (7200, .normal))
        #expect(changes[2] == (7200 + 3600, .off))
        // Asked for Normal meanwhile, it stays: the rule only forbids Off.
        var n = HeatPumpRegimeMachine(regime: .off, since: Self.t0)
        changes = Self.drive(&n, wanted: .off, from: 7199, to: 7300, rules: rules)
        #expect(changes.map(\.0) == [7200])
        #expect(n.offBlockedUntil == Self.t0 + 7200 + 3600)
    }

    @Test func aMissingRegimeIsSkippedUpAndDown() {
        let rules = Self.rules(.residential, regimes: [.off, .normal, .boost])
        var m = HeatPumpRegimeMachine(regime: .normal, since: Self.t0 - 1000)
        let up = Self.drive(&m, wanted: .comfort, from: 0, to: 100, rules: rules)
        #expect(up.isEmpty, "comfort is clamped to normal on a pump without it")
        let boost = Self.drive(&m, wanted: .boost, from: 101, to: 200, rules: rules)
        #expect(boost.map(\.1) == [.boost])
    }

    @Test func aPumpWithoutOffIsNeverSwitchedOff() {
        let rules = Self.rules(.residential, regimes: [.normal, .comfort, .boost])
        var m = HeatPumpRegimeMachine(regime: .normal, since: Self.t0 - 1000)
        #expect(Self.drive(&m, wanted: .off, from: 0, to: 100, rules: rules).isEmpty)
    }

    @Test func anExceededLimitDropsAtOnceButNotPastTheOffRule() {
        let rules = Self.rules(.residential)
        var m = HeatPumpRegimeMachine(regime: .normal, since: Self.t0 - 10_000)
        _ = Self.drive(&m, wanted: .boost, from: 0, to: 1000, rules: rules)
        #expect(m.regime == .boost)
        m.step(wanted: .off, now: Self.t0 + 1001, rules: rules, urgent: true)
        #expect(m.regime == .off, "urgent: straight down, dwell ignored")
    }
}
