import Foundation
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// The whole chain with real parts: P1 telegrams over a pty → phasor-gateway →
/// mosquitto → phasor-control → mosquitto → phasor-gateway → Modbus TCP → the
/// simulated chargers' current-limit registers.
@Suite(.serialized, .endToEnd) struct SiteEndToEndTests {
    static let lowHouse = [2.0, 2.0, 2.0]
    /// A 15 A step on L1 (an oven, a heat pump starting).
    static let highHouse = [17.0, 2.0, 2.0]

    @Test func aStepInHouseLoadLowersTheChargersAndControlStoppingLeavesThemAtTheirSafeCurrent() async throws {
        try await withSiteRig { rig in
            try await rig.waitUntilRunning()

            // Low house load: the cars share what the 32 A main connection leaves.
            // Telegrams continue until the gateway reports the cars drawing their setpoints.
            // Telegrams come once a second; control starts the cars once their chargers report,
            // and raises them at most every increase interval (10 s) on settled readings.
            let rampDeadline = ContinuousClock.now + .seconds(45)
            // (A step while the cars still ramp up is seen only once they have: the meter cannot
            // tell the house from a car's ramp until its report says where the car is.)
            while !(rig.chargers.allSatisfy { ($0.setpoint ?? 0) >= 14 } && rig.carsFollowedAndReported) {
                try #require(ContinuousClock.now < rampDeadline,
                             "no high setpoint at low house load: \(rig.chargers.map(\.setpoint)); \(rig.logs())")
                try await rig.sendTelegram(house: Self.lowHouse)
                try await Task.sleep(for: .milliseconds(50))
            }
            let high = rig.chargers.map { $0.setpoint ?? 0 }
            #expect(high.allSatisfy { $0 <= 16 }, "never above the configured maximum: \(high)")
            for (phase, load) in rig.phaseLoads(house: Self.lowHouse).enumerated() {
                #expect(load <= SiteRig.mainLimit, "L\(phase + 1) at low load: \(load) A")
            }

            // The step: lowered currents are written to both simulators within a few telegrams.
            var afterStep = 0
            var lowered = false
            while !lowered && afterStep < 3 {
                try await rig.sendTelegram(house: Self.highHouse)
                afterStep += 1
                lowered = await eventually(timeout: .milliseconds(500)) {
                    zip(rig.chargers, high).allSatisfy { charger, before in (charger.setpoint ?? before) < before }
                }
            }
            #expect(lowered, "lowered within 3 telegrams: \(rig.chargers.map(\.setpoint)) from \(high); control said \(rig.chargers.map { rig.messages.on(TopicBuilder(site: rig.site.site).chargePointSetpoint($0.id)).suffix(5).map(\.string) }); \(rig.logs())")
            let loweredAt = Date()
            // The cars follow after their lower delay (1.5 s): from then on every telegram shows
            // house + cars under the main limit on every phase, and both cars keep charging —
            // their minimums fit beside the step, so nothing is stopped (control used to stop and
            // restart cars here, misreading a car's own drop as house load).
            var checked = 0
            var settledSetpoints: [Double?] = []
            var changesWhenSettled = 0
            var stopped = 0
            let checkDeadline = ContinuousClock.now + .seconds(60)
            while checked < 30 || !rig.reportsMatchTheChargers {
                try #require(ContinuousClock.now < checkDeadline, "the gateway never reported the lowered currents; \(rig.logs())")
                try await rig.sendTelegram(house: Self.highHouse)
                checked += 1
                let loads = rig.phaseLoads(house: Self.highHouse)
                if Date().timeIntervalSince(loweredAt) > SiteRig.carResponse.lowerDelay + 0.2 {
                    #expect(loads.allSatisfy { $0 <= SiteRig.mainLimit + 0.001 },
                            "per-phase load \(loads) A, setpoints \(rig.chargers.map(\.setpoint)) \(rig.messages.on(TopicBuilder(site: rig.site.site).controlState).suffix(3).map(\.string))")
                }
                if rig.chargers.contains(where: { ($0.setpoint ?? 0) < 6 }) { stopped += 1 }
                // The last ten telegrams (after 20 s to settle): a steady site, no setpoint moves.
                if checked == 20 { settledSetpoints = rig.chargers.map(\.setpoint) }
                if checked > 20 && rig.chargers.map(\.setpoint) != settledSetpoints { changesWhenSettled += 1 }
            }
            // Not asserted (open, issue 10): that no car is stopped. A cycle that finds L1 exceeded
            // for sure while a lowered car may still draw its old current re-plans on the cautious
            // view, which credits that car's report only down to its new limit, and can stop a car
            // whose minimum fits; it restarts once the view settles. Printed for the record.
            print("[site] telegrams after the step with a car stopped: \(stopped) of \(checked)")
            #expect(changesWhenSettled == 0, "setpoints moved on a steady site: \(settledSetpoints) → \(rig.chargers.map(\.setpoint))")

            // Control stops (SIGTERM): its status goes offline and the gateway, on its own,
            // writes each charger's safe current.
            rig.control.signal(SIGTERM)
            #expect(await rig.control.waitForExit() == 0)
            #expect(await eventually(timeout: .seconds(5)) { rig.messages.status(.control) == "offline" })
            let fellBack = await eventually(timeout: .seconds(5)) {
                rig.chargers.allSatisfy { $0.setpoint == $0.profile.charger?.safeCurrent }
            }
            #expect(fellBack, "safe currents \(rig.chargers.map { $0.profile.charger?.safeCurrent }), written \(rig.chargers.map(\.setpoint))")
            for charger in rig.chargers {
                #expect(rig.messages.applied(charger.id).last?.result == .fallback, "\(charger.id) acknowledged the fallback")
            }
        }
    }
}
