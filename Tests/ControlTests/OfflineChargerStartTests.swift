import Foundation
import Testing

@testable import Control

/// A charger control has not heard from yet (at start, before its first report) or that went
/// quiet is budgeted at its safe current; what it is *asked* for, and what a car plugged in
/// right after its limit was lowered may still draw. Both overloaded plant sites at start
/// (seeds 30176 and 30359 of the 1000-site run).
@Suite struct OfflineChargerStartTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A 16 A main with 11 A of house on L1: a single-phase charger on L1 not heard from yet.
    /// Writing its safe current (6 A) would start a car into a phase with 5 A free should the
    /// charger hear us; it is asked for 0 and its safe current stays budgeted.
    @Test func aChargerNotHeardFromIsAskedForZeroWhereItsSafeCurrentDoesNotFit() throws {
        let model = try Sites.single(
            limit: 16, chargePoints: [Sites.chargePoint("cp1", phases: 1), Sites.chargePoint("cp2", phases: 3)])
        let safe = model.chargePoints[0].safeCurrent
        #expect(safe == 6)
        let full = Measurements(meters: ["grid": MeterSample(time: Self.t0, currents: PhaseCurrents(11, 3, 3))])
        let (_, d) = ControlCycle.run(state: ControlState(model: model), model: model, measurements: full, now: Self.t0)
        for id in ["cp1", "cp2"] {
            #expect(d.setpoint(id)?.reason == .chargerOfflineNoRoom, "\(String(describing: d.setpoint(id)))")
            #expect(d.current(id) == 0)
        }
        // Still budgeted: the main's expected load counts both safe currents.
        #expect(d.nodes[0].expected[0] >= 11 + 2 * safe - 1e-9, "\(d.nodes[0].expected)")

        // With room for both safe currents (16 − 4 − 6 − 6 ≥ 0 on L1) they are asked for them.
        let room = Measurements(meters: ["grid": MeterSample(time: Self.t0, currents: PhaseCurrents(4, 3, 3))])
        let (_, e) = ControlCycle.run(state: ControlState(model: model), model: model, measurements: room, now: Self.t0)
        for id in ["cp1", "cp2"] {
            #expect(e.setpoint(id)?.reason == .chargerOffline)
            #expect(e.current(id) == safe)
        }
    }

    /// cp1 was on its safe current (not heard from at start); its first report says no car, and its
    /// limit goes to 0. Reports come once a second, so until the next one the charger may have
    /// had a car plugged in under the 6 A it held, and that car takes up to the EV response time
    /// to follow the lower limit: cp2's raise leaves that room until a report taken after the
    /// lowering says otherwise. (Unplugged, the session started afresh and forgot the limit.)
    @Test func aChargerJustLoweredToNoCarKeepsItsOldLimitCountedUntilAReportAfterIt() throws {
        let model = try Sites.single(limit: 32, chargePoints: [Sites.chargePoint("cp1", max: 16), Sites.chargePoint("cp2", max: 32)])
        var state = ControlState(model: model)
        var cp2 = 0.0
        var lowered: Date?
        var seen: [(time: Double, cp2: Double, reportAfterLowering: Bool)] = []
        for step in 0..<40 {
            let now = Self.t0 + Double(step) * 0.5
            // The meter (every 0.5 s) shows cp2's car at its last setpoint (it follows at once);
            // the chargers report every second, 0.3 s past the second.
            var m = Measurements(meters: ["grid": MeterSample(time: now - 0.1, currents: PhaseCurrents(repeating: cp2))])
            let report = Self.t0 + (now.timeIntervalSince(Self.t0) - 0.3).rounded(.down) + 0.3
            // cp1 is heard from only from 2.3 s on (cp2 has settled beside its safe current by then).
            if report > Self.t0 + 2 { m.chargers["cp1"] = ChargerSample(time: report, connected: false, currents: .zero) }
            if report > Self.t0 {
                m.chargers["cp2"] = ChargerSample(time: report, connected: true, currents: PhaseCurrents(repeating: cp2))
            }
            let (next, d) = ControlCycle.run(state: state, model: model, measurements: m, now: now)
            state = next
            if step == 0 { #expect(d.current("cp1") == 6, "offline at start: its safe current fits") }
            if lowered == nil, step > 0, d.current("cp1") == 0 { lowered = now }
            cp2 = d.current("cp2")
            seen.append((now.timeIntervalSince(Self.t0), cp2, lowered.map { report > $0 } ?? false))
        }
        #expect(lowered != nil)
        let before = seen.filter { !$0.reportAfterLowering }
        #expect(before.count >= 2)
        #expect(before.allSatisfy { $0.cp2 + 6 <= 32 + 1e-9 }, "cp2 while cp1's 6 A may still be drawn: \(before)")
        #expect(seen.last!.cp2 == 32, "cp2 gets the whole connection once cp1's old limit is past: \(seen.suffix(5))")
    }
}
