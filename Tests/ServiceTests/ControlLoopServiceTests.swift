import Control
import ControlService
import Foundation
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// phasor-control's service against a real mosquitto, with the gateway's retained
/// JSON states published by hand and time moved by hand (no test waits for a
/// timeout or a quarter hour; the short waits are for MQTT delivery).
@Suite(.endToEnd) struct ControlLoopServiceTests {
    /// 2027-01-15 08:00:00 UTC, a quarter-hour boundary.
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Publishes main-meter readings a second apart until cp1's setpoint decided on
    /// one of them satisfies `predicate` (the charger states published before may
    /// reach control after the first reading: they arrive on another subscription).
    func settle(
        _ h: ControlHarness, setpoints: MQTTSubscription, meter: [Double], until predicate: @escaping @Sendable (SetpointPayload) -> Bool
    ) async throws -> ReceivedSetpoint? {
        for _ in 0..<20 {
            if let s = try await reading(h, meter, setpoints: setpoints), predicate(s.payload) { return s }
        }
        return nil
    }

    /// One main-meter reading a second after the last, and cp1's setpoint decided on it.
    func reading(_ h: ControlHarness, _ meter: [Double], setpoints: MQTTSubscription) async throws -> ReceivedSetpoint? {
        h.clock.advance(by: 1)
        let time = h.clock.now()
        try h.publishMeter(meter)
        return await setpoints.nextSetpoint("cp1", timeout: .seconds(5)) { $0.time == time }
    }

    @Test func setpointsCarryReasonsAndAStepInHouseLoadLowersThemWithinOneReading() async throws {
        let h = try await ControlHarness(site: uniqueSite(), clock: ManualWallClock(Self.start))
        let setpoints = try await h.subscribe("\(h.topics.root)/chargepoint/+/setpoint")
        try h.publishCharger("cp1", status: .connected)
        try h.publishCharger("cp2", status: .disconnected)

        // 2 A of house load under a 20 A main breaker: the car gets its 16 A maximum.
        let before = try #require(await settle(h, setpoints: setpoints, meter: [2, 2, 2]) { $0.current == 16 })
        #expect(before.payload.reason == "at its maximum current")
        #expect(before.retained)

        // The house steps to 12 A: the decision on that very reading leaves 8 A.
        let after = try #require(try await reading(h, [12, 12, 12], setpoints: setpoints))
        #expect(after.payload.sequence! > before.payload.sequence!)
        #expect(after.payload.current == 8)
        #expect(after.payload.reason == "shared evenly under the L1 limit of 'main'")
        try h.clearRetained([h.topics.meterState("grid"), h.topics.chargePointState("cp1"), h.topics.chargePointState("cp2")])
        await h.stop()
    }

    @Test func aMissingOrOfflineChargerIsBudgetedAtItsSafeCurrent() async throws {
        let h = try await ControlHarness(site: uniqueSite(), clock: ManualWallClock(Self.start))
        let setpoints = try await h.subscribe("\(h.topics.root)/chargepoint/+/setpoint")
        let states = try await h.subscribe(h.topics.controlState)
        try h.publishCharger("cp1", status: .connected)

        // cp2 never reported: 20 − 2 − 6 A (its safe current) leaves 12 A for cp1.
        let missing = try #require(await settle(h, setpoints: setpoints, meter: [2, 2, 2]) { $0.current == 12 })
        #expect(missing.payload.reason == "shared evenly under the L1 limit of 'main'")

        // cp2 reports online with no car: cp1 gets its maximum.
        try h.publishCharger("cp2", status: .disconnected)
        #expect(try await settle(h, setpoints: setpoints, meter: [2, 2, 2]) { $0.current == 16 } != nil)

        // cp2 drops offline (as the gateway reports it): its safe current is budgeted again.
        try h.publishCharger("cp2", online: false, status: .disconnected)
        #expect(try await settle(h, setpoints: setpoints, meter: [2, 2, 2]) { $0.current == 12 } != nil)
        let state = try #require(await states.nextState { $0.point("cp2")?["online"] as? Bool == false })
        #expect(state.point("cp2")?["reason"] as? String == "charger offline: budgeting its safe current")
        try h.clearRetained([h.topics.meterState("grid"), h.topics.chargePointState("cp1"), h.topics.chargePointState("cp2")])
        await h.stop()
    }

    @Test func aStaleMainMeterFallsBackToSafeCurrents() async throws {
        let h = try await ControlHarness(site: uniqueSite(), clock: ManualWallClock(Self.start), cycleInterval: .milliseconds(50))
        let setpoints = try await h.subscribe("\(h.topics.root)/chargepoint/+/setpoint")
        let states = try await h.subscribe(h.topics.controlState)
        try h.publishCharger("cp1", status: .connected)
        try h.publishCharger("cp2", status: .disconnected)
        #expect(try await settle(h, setpoints: setpoints, meter: [2, 2, 2]) { $0.current == 16 } != nil)

        // No reading for longer than the node's 30 s timeout (the timer keeps deciding).
        h.clock.advance(by: 31)
        let safe = try #require(await setpoints.nextSetpoint("cp1") { $0.reason?.contains("stale") == true })
        #expect(safe.payload.current == 6)
        // The reason says how old the last reading is (a feed one hour behind says so).
        let reason = safe.payload.reason ?? ""
        #expect(reason.hasPrefix("meter 'grid' of 'main' is stale: its last reading is ") && reason.hasSuffix(" s old (limit 30 s): safe current"),
                "\(reason)")
        let age = Double(reason.dropFirst("meter 'grid' of 'main' is stale: its last reading is ".count).prefix { $0 != " " })
        #expect((age ?? 0) >= 31, "\(reason)")
        let state = try #require(await states.nextState { !$0.staleMeters.isEmpty })
        #expect(state.staleMeters == ["grid"])
        #expect(state.budget["meter_fresh"] as? Bool == false)
        try h.clearRetained([h.topics.meterState("grid"), h.topics.chargePointState("cp1"), h.topics.chargePointState("cp2")])
        await h.stop()
    }

    @Test func setpointsAreRepublishedEveryCycleWithIncreasingSequence() async throws {
        let h = try await ControlHarness(site: uniqueSite(), clock: ManualWallClock(Self.start), cycleInterval: .milliseconds(50))
        let setpoints = try await h.subscribe("\(h.topics.root)/chargepoint/+/setpoint")
        var sequences: [UInt64] = []
        for _ in 0..<4 {
            let s = try #require(await setpoints.nextSetpoint("cp1"))
            #expect(s.retained)
            sequences.append(try #require(s.payload.sequence))
        }
        // Nothing changed (no readings, same clock), yet every cycle sent the setpoint again.
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 }, "\(sequences)")
        await h.stop()
    }

    @Test func theGatewaysAnswerToASetpointIsShownOnTheState() async throws {
        let h = try await ControlHarness(site: uniqueSite(), clock: ManualWallClock(Self.start), cycleInterval: .milliseconds(50))
        let states = try await h.subscribe(h.topics.controlState)
        let answer = AppliedPayload(time: Self.start, result: .refused, current: 16, sequence: 41, reason: "above the profile's 13 A")
        try h.peer.publish(MQTTMessage(topic: h.topics.chargePointApplied("cp1"), payload: answer.encode(), qos: .atLeastOnce, retain: true))
        let state = try #require(await states.nextState { $0.point("cp1")?["applied"] is [String: Any] })
        let applied = try #require(state.point("cp1")?["applied"] as? [String: Any])
        #expect(applied["result"] as? String == "refused")
        #expect(applied["sequence"] as? Int == 41)
        if let result = try await validate([state.bytes], against: "control-state.schema.json") {
            #expect(result.status == 0, "\(result.output)")
        }
        try h.clearRetained([h.topics.chargePointApplied("cp1")])
        await h.stop()
    }

    @Test func operatorCommandsAreAppliedOrRefusedWithAReason() async throws {
        let h = try await ControlHarness(site: uniqueSite(), clock: ManualWallClock(Self.start))
        let setpoints = try await h.subscribe("\(h.topics.root)/chargepoint/+/setpoint")
        let states = try await h.subscribe(h.topics.controlState)
        let errors = try await h.subscribe(h.topics.error(.control))
        try h.publishCharger("cp1", status: .connected)
        try h.publishCharger("cp2", status: .disconnected)
        #expect(try await settle(h, setpoints: setpoints, meter: [2, 2, 2]) { $0.current == 16 } != nil)

        // Accepted: each answered at once by a new decision.
        try h.command("slider", "7.5")
        #expect(await states.nextState { $0.sliderKW == 7.5 } != nil)
        try h.command("chargepoint/cp1/current", "8")
        try h.command("chargepoint/cp1/mode", "{\"value\": \"manual\"}")
        #expect(await setpoints.nextSetpoint("cp1") { $0.current == 8 } != nil)
        try h.command("chargepoint/cp2/priority", "5")
        let state = try #require(await states.nextState { $0.point("cp2")?["priority"] as? Int == 5 })
        #expect(state.point("cp1")?["mode"] as? String == "manual")
        #expect(state.point("cp1")?["manual_current"] as? Double == 8)
        if let result = try await validate([state.bytes], against: "control-state.schema.json") {
            #expect(result.status == 0, "\(result.output)")
        }

        // Refused, each with its field and reason on …/error/control, never retained.
        var refusals: [[UInt8]] = []
        for (path, payload, retain, field, reason) in [
            ("chargepoint/cp7/mode", "solar", false, "chargepoint", "unknown charge point 'cp7'"),
            ("chargepoint/cp1/mode", "fast", false, "mode", "not one of automatic, manual, solar, off"),
            ("chargepoint/cp1/current", "32", false, "current", "outside 6…16 A"),
            ("chargepoint/cp1/priority", "2.5", false, "priority", "whole number"),
            ("slider", "0.5", false, "slider", "outside"),
            ("chargepoint/cp1/mode", "solar", true, "retain", "retained commands are refused"),
        ] {
            try h.command(path, payload, retain: retain)
            refusals.append(try await expectRefusal(errors, field: field, reason: reason))
        }
        if let result = try await validate(refusals, against: "error.schema.json") { #expect(result.status == 0, "\(result.output)") }
        // The retained command (solar) was not applied: cp1 went from manual to off, not solar.
        try h.command("chargepoint/cp1/mode", "off")
        let off = try #require(await setpoints.nextSetpoint("cp1") { $0.current == 0 })
        #expect(off.payload.reason == "charge point is switched off")
        let last = try #require(await states.nextState { $0.sequence == Int(off.payload.sequence ?? 0) })
        #expect(last.point("cp1")?["mode"] as? String == "off")
        try h.clearRetained([
            h.topics.controlSet("chargepoint/cp1/mode"), h.topics.meterState("grid"), h.topics.chargePointState("cp1"),
            h.topics.chargePointState("cp2"),
        ])
        await h.stop()
    }

    @Test func aRestartKeepsTheQuarterEnergyTheMonthPeakAndTheOperatorSettings() async throws {
        let site = uniqueSite()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("control-state-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = ManualWallClock(Self.start)
        let first = try await ControlHarness(site: site, clock: clock, stateDirectory: directory.path)
        let states = try await first.subscribe(first.topics.controlState)
        try first.command("slider", "9")
        #expect(await states.nextState { $0.sliderKW == 9 } != nil)

        // 10 A per phase (6.9 kW) for a whole quarter and five minutes of the next one,
        // a reading every 10 s.
        var lastState: ControlStateView?
        for step in 0...(20 * 6) {
            clock.set(Self.start + Double(step) * 10)
            try first.publishMeter([10, 10, 10])
            let time = ISO8601.format(clock.now(), utcOffsetSeconds: 0)
            lastState = await states.nextState { $0.object["time"] as? String == time }
            try #require(lastState != nil, "no decision for the reading at \(time)")
        }
        let before = try #require(lastState)
        let peakBefore = try #require(before.budget["month_peak_kw"] as? Double)
        let energyBefore = try #require(before.budget["energy_kwh"] as? Double)
        #expect(abs(peakBefore - 6.9) < 0.05, "the closed quarter's average: \(peakBefore)")
        #expect(abs(energyBefore - 6.9 * 5 / 60) < 0.05, "five minutes at 6.9 kW: \(energyBefore)")
        await first.stop()
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("control-\(site).json").path))

        // A new process (same state folder) 10 s later: the next reading continues the quarter.
        clock.advance(by: 10)
        let second = try await ControlHarness(site: site, clock: clock, stateDirectory: directory.path)
        let again = try await second.subscribe(second.topics.controlState)
        try second.publishMeter([10, 10, 10])
        let time = ISO8601.format(clock.now(), utcOffsetSeconds: 0)
        let after = try #require(await again.nextState { $0.object["time"] as? String == time })
        #expect(after.budget["month_peak_kw"] as? Double == peakBefore)
        let energyAfter = try #require(after.budget["energy_kwh"] as? Double)
        #expect(energyAfter >= energyBefore && energyAfter < energyBefore + 0.05, "\(energyBefore) → \(energyAfter)")
        #expect(after.sliderKW == 9)
        try second.clearRetained([second.topics.meterState("grid")])
        await second.stop()
    }
}
