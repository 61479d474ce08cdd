import DeviceSimulators
import Foundation
import Gateway
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// A charge point behind the gateway: state, setpoints (refused and written),
/// watchdog and fallback, against the simulated Alfen Eve over TCP and mosquitto.
@Suite(.endToEnd) struct ChargePointServiceTests {
    /// Alfen's EMS setpoint register (1210, float32) as a second master reads it.
    static let setpointRegister = RegisterLayout(address: RegisterAddress(1210), table: .holdingRegisters, type: .float32)

    struct Rig {
        let clock = ManualWallClock()
        let topics = TopicBuilder(site: uniqueSite())
        let simulator: ModbusSimulator
        let port: Int
        let gateway: MQTTClient
        let control: MQTTClient
        let running: RunningServices
        let states: MQTTSubscription
        let applied: MQTTSubscription
        let errors: MQTTSubscription

        init(profileID: String = "alfen_eve", setpointTimeout: TimeInterval = 30) async throws {
            let alfen = try profile(profileID)
            simulator = ModbusSimulator(clock: clock)
            try simulator.add(alfen, unitID: 1)
            port = try simulator.startTCP()
            simulator.updateCharger(unitID: 1) { $0.vehicle = .init(phases: 3) }
            gateway = try await connectedClient()
            control = try await connectedClient()
            states = try await control.subscribe(topics.chargePointState("cp1"), qos: .atLeastOnce)
            applied = try await control.subscribe(topics.chargePointApplied("cp1"), qos: .atLeastOnce)
            errors = try await control.subscribe(topics.error(.gateway), qos: .atLeastOnce)
            let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
            let device = ModbusDevice(id: "cp1", profile: alfen, bus: bus, target: BusTarget(unitID: 1), clock: clock)
            let driver = try ModbusChargerDriver(device: device, commandTimeout: setpointTimeout, clock: clock)
            running = RunningServices([ChargePointService(
                id: "cp1", driver: driver, device: device, client: gateway, topics: topics, clock: clock, pollInterval: 5,
                tick: .milliseconds(20), logger: quietLogger)])
        }

        func send(_ setpoint: String) throws {
            try control.publish(MQTTMessage(topic: topics.chargePointSetpoint("cp1"), string: setpoint, qos: .atLeastOnce))
        }

        func setpointInDevice() async throws -> Double? {
            try await readValue(ChargePointServiceTests.setpointRegister, port: port, unit: 1)
        }

        func shutdown() async {
            running.stop()
            simulator.stop()
            await gateway.shutdown()
            await control.shutdown()
        }
    }

    @Test func stateIsPublishedEveryPollWithTheProfileLimits() async throws {
        let rig = try await Rig()
        let first = try json(await rig.states.next())
        #expect(first["id"] as? String == "cp1")
        #expect(first["online"] as? Bool == true)
        #expect(first["status"] as? String == "charging")  // safe current 6 A until control speaks
        #expect(first["current_limit"] as? Double == 6)
        #expect(first["max_current"] as? Double == 32 && first["min_current"] as? Double == 6)
        #expect(first["can_switch_phases"] as? Bool == true)
        #expect(first["fallback_active"] as? Bool == false)
        rig.clock.advance(by: 5)
        let second = try #require(await rig.states.next())
        #expect(try ChargePointStatePayload.decode(second.payload).currents == [6, 6, 6])
        try await expectValid([second.payload], schema: "chargepoint-state.schema.json")
        await rig.shutdown()
    }

    /// A wall clock stepped back (the chaos soak steps it) left the last poll in the
    /// future: the charger's state was not read again until the clock caught up.
    @Test func aWallClockSteppedBackDoesNotStopThePolling() async throws {
        let rig = try await Rig()
        #expect(await rig.states.next(timeout: .seconds(10)) != nil)
        rig.clock.advance(by: -600)
        #expect(await rig.states.next(timeout: .seconds(10)) != nil, "polled again after the clock went back 600 s")
        await rig.shutdown()
    }

    @Test func malformedSetpointsAreRefusedWithAReasonAndNothingIsWritten() async throws {
        let rig = try await Rig()
        _ = await rig.states.next()  // the service is subscribed
        let cases: [(payload: String, field: String, reason: String)] = [
            (#"{"current": -3}"#, "current", "negative"),
            ("-1", "current", "negative"),
            (#"{"current": 40}"#, "current", "above this charger's maximum of 32 A"),
            (#"{"current": 3}"#, "current", "below this charger's minimum of 6 A"),
            (#"{"current": "ten"}"#, "current", "number"),
            (#"{"current": true}"#, "current", "number"),
            (#"{"amps": 10}"#, "amps", "unknown"),
            (#"{"current": 10, "phases": 2}"#, "phases", "1 or 3"),
            ("ten amps", "current", "expected a number"),
        ]
        var refusals: [[UInt8]] = []
        var applieds: [[UInt8]] = []
        for c in cases {
            try rig.send(c.payload)
            let errorMessage = try #require(await rig.errors.next(), "no error for \(c.payload)")
            let error = try json(errorMessage)
            #expect(error["field"] as? String == c.field, "\(c.payload): \(error)")
            #expect((error["reason"] as? String ?? "").contains(c.reason), "\(c.payload): \(error)")
            let applied = try #require(await rig.applied.next())
            #expect(try AppliedPayload.decode(applied.payload).result == .refused, "\(c.payload)")
            #expect(!errorMessage.retain)
            refusals.append(errorMessage.payload)
            applieds.append(applied.payload)
        }
        // Nothing reached the charger: its register still holds the safe current.
        #expect(try await rig.setpointInDevice() == 6)
        #expect(rig.simulator.charger(unitID: 1)?.setpoint == 6)
        try await expectValid(refusals, schema: "error.schema.json")
        try await expectValid(applieds, schema: "chargepoint-applied.schema.json")
        await rig.shutdown()
    }

    @Test func phasesAChargerCannotSwitchAreRefused() async throws {
        let rig = try await Rig(profileID: "abb_terra_ac")
        _ = await rig.states.next()
        try rig.send(#"{"current": 10, "phases": 1}"#)
        let error = try json(await rig.errors.next())
        #expect(error["field"] as? String == "phases")
        #expect((error["reason"] as? String ?? "").contains("cannot switch phases"))
        #expect(try AppliedPayload.decode(try #require(await rig.applied.next()).payload).result == .refused)
        await rig.shutdown()
    }

    @Test func aValidSetpointIsWrittenAndAcknowledged() async throws {
        let rig = try await Rig()
        _ = await rig.states.next()
        let setpoint = SetpointPayload(current: 13, phases: 1, sequence: 42, time: rig.clock.now(), reason: "slider")
        try rig.send(String(decoding: setpoint.encode(), as: UTF8.self))
        let applied = try #require(await rig.applied.next())
        let decoded = try AppliedPayload.decode(applied.payload)
        #expect(decoded.result == .applied)
        #expect(decoded.current == 13 && decoded.phases == 1 && decoded.sequence == 42)
        #expect(try await rig.setpointInDevice() == 13)
        #expect(rig.simulator.charger(unitID: 1)?.requestedPhases == 1)
        rig.clock.advance(by: 5)
        let state = try ChargePointStatePayload.decode(try #require(await rig.states.next { m in
            (try? ChargePointStatePayload.decode(m.payload))?.currentLimit == 13 }).payload)
        #expect(state.phasesInUse == 1)
        #expect(state.currents == [13, 0, 0])
        try await expectValid([setpoint.encode()], schema: "chargepoint-setpoint.schema.json")
        try await expectValid([applied.payload], schema: "chargepoint-applied.schema.json")
        await rig.shutdown()
    }

    @Test func controlGoingOfflineMakesTheGatewayWriteTheSafeCurrent() async throws {
        let rig = try await Rig()
        _ = await rig.states.next()
        try rig.control.publish(MQTTMessage(topic: rig.topics.status(.control), string: "online", qos: .atLeastOnce))
        try rig.send(#"{"current": 16, "sequence": 1}"#)
        #expect(try AppliedPayload.decode(try #require(await rig.applied.next()).payload).result == .applied)
        #expect(try await rig.setpointInDevice() == 16)

        try rig.control.publish(MQTTMessage(topic: rig.topics.status(.control), string: "offline", qos: .atLeastOnce))
        let fallback = try AppliedPayload.decode(try #require(await rig.applied.next()).payload)
        #expect(fallback.result == .fallback)
        #expect(fallback.current == 6)
        #expect(try await rig.setpointInDevice() == 6)
        rig.clock.advance(by: 5)
        let state = try #require(await rig.states.next { m in (try? ChargePointStatePayload.decode(m.payload))?.fallbackActive == true })
        #expect(try ChargePointStatePayload.decode(state.payload).currentLimit == 6)

        // A (retained, stale) setpoint while control is offline does not undo the fallback.
        try rig.send(#"{"current": 20}"#)
        let refused = try AppliedPayload.decode(try #require(await rig.applied.next()).payload)
        #expect(refused.result == .refused)
        #expect(refused.reason?.contains("control is offline") == true)
        #expect(try await rig.setpointInDevice() == 6)

        // Control back: its next setpoint ends the fallback.
        try rig.control.publish(MQTTMessage(topic: rig.topics.status(.control), string: "online", qos: .atLeastOnce))
        // Status and setpoints arrive on separate streams; control republishes its
        // setpoint every cycle, so the gateway applies one of the next few.
        var result: AppliedPayload.Result?
        for _ in 0..<20 where result != .applied {
            try rig.send(#"{"current": 10}"#)
            result = try AppliedPayload.decode(try #require(await rig.applied.next()).payload).result
        }
        #expect(result == .applied)
        #expect(try await rig.setpointInDevice() == 10)
        await rig.shutdown()
    }

    @Test func noSetpointForTheConfiguredTimeFallsBackToTheSafeCurrent() async throws {
        let rig = try await Rig(setpointTimeout: 30)
        _ = await rig.states.next()
        try rig.send("20")
        #expect(try AppliedPayload.decode(try #require(await rig.applied.next()).payload).result == .applied)
        #expect(try await rig.setpointInDevice() == 20)
        rig.clock.advance(by: 29)
        rig.clock.advance(by: 2)  // 31 s without a setpoint
        let fallback = try AppliedPayload.decode(try #require(await rig.applied.next()).payload)
        #expect(fallback.result == .fallback)
        #expect(fallback.reason == "no setpoint within the timeout")
        #expect(try await rig.setpointInDevice() == 6)
        #expect(rig.simulator.charger(unitID: 1)?.chargingCurrent(at: rig.clock.now()) == 6)
        await rig.shutdown()
    }

    @Test func theWatchdogIsFedWhileControlIsAlive() async throws {
        let rig = try await Rig(setpointTimeout: 300)
        _ = await rig.states.next()
        try rig.send("16")
        _ = await rig.applied.next()
        // Alfen's setpoint validity is 60 s; the service rewrites it every 25 s.
        for _ in 0..<8 {
            rig.clock.advance(by: 10)
            // Fed again (within its 25 s interval) by the service's next tick.
            let fed = await eventually {
                guard let model = rig.simulator.charger(unitID: 1) else { return false }
                return rig.clock.now().timeIntervalSince(model.lastFeed) < 25
            }
            #expect(fed)
        }
        #expect(rig.simulator.charger(unitID: 1)?.watchdogLapsed(at: rig.clock.now()) == false)
        #expect(rig.simulator.charger(unitID: 1)?.appliedLimit(at: rig.clock.now()) == 16)
        await rig.shutdown()
    }

    /// Issue 9, defect 4: control's status still says `online` (retained, left by a
    /// control that died while the broker was down) but its heartbeat stopped: after
    /// three missed beats on the gateway's clock the charger gets its safe current
    /// and setpoints are refused until a fresh beat arrives.
    @Test func aControlWhoseHeartbeatStopsIsFallenBackFrom() async throws {
        let rig = try await Rig(setpointTimeout: 300)
        _ = await rig.states.next()
        func beat() throws {
            let beat = HeartbeatPayload(service: "control", started: rig.clock.now(), time: rig.clock.now(), interval: 5)
            try rig.control.publish(MQTTMessage(topic: rig.topics.heartbeat(.control), payload: beat.encode(), qos: .atLeastOnce))
        }
        try rig.control.publish(MQTTMessage(topic: rig.topics.status(.control), string: "online", qos: .atLeastOnce))
        try beat()
        var result: AppliedPayload.Result?
        for _ in 0..<20 where result != .applied {
            try rig.send(#"{"current": 16}"#)
            result = try AppliedPayload.decode(try #require(await rig.applied.next()).payload).result
        }
        #expect(try await rig.setpointInDevice() == 16)
        rig.clock.advance(by: 14)
        // Three beats (15 s) not yet missed: control still counts as alive.
        try rig.send(#"{"current": 15}"#)
        #expect(try AppliedPayload.decode(try #require(await rig.applied.next()).payload).result == .applied)
        rig.clock.advance(by: 2)
        let fallback = try AppliedPayload.decode(try #require(await rig.applied.next()).payload)
        #expect(fallback.result == .fallback)
        #expect(fallback.reason?.contains("control silent") == true, "\(fallback.reason ?? "")")
        #expect(try await rig.setpointInDevice() == 6)
        try rig.send(#"{"current": 16}"#)
        #expect(try AppliedPayload.decode(try #require(await rig.applied.next()).payload).result == .refused)
        try beat()
        result = nil
        for _ in 0..<20 where result != .applied {
            try rig.send(#"{"current": 12}"#)
            result = try AppliedPayload.decode(try #require(await rig.applied.next()).payload).result
        }
        #expect(try await rig.setpointInDevice() == 12)
        await rig.shutdown()
    }

    /// Issue 9, defect 2: a setpoint write the charger does not answer holds the
    /// next ones back (1 s, then 2 s…) instead of one timeout per setpoint.
    @Test func aFailedWriteHoldsTheNextOnesBack() async throws {
        let rig = try await Rig()
        _ = await rig.states.next()
        let requests = Locked(0)
        rig.simulator.observeRequests { unit, _ in if unit == 1 { requests.withLock { $0 += 1 } } }
        rig.simulator.setResponding(1, false)
        try rig.send("10")
        let failed = try AppliedPayload.decode(try #require(await rig.applied.next(timeout: .seconds(20))).payload)
        #expect(failed.result == .failed)
        let afterFirst = requests.withLock { $0 }
        try rig.send("11")
        let held = try AppliedPayload.decode(try #require(await rig.applied.next()).payload)
        #expect(held.result == .failed)
        #expect(held.reason?.contains("next attempt in 1 s") == true, "\(held.reason ?? "")")
        #expect(requests.withLock { $0 } == afterFirst, "nothing sent to the silent charger meanwhile")
        rig.simulator.setResponding(1, true)
        rig.clock.advance(by: 1.1)
        try rig.send("12")
        #expect(try AppliedPayload.decode(try #require(await rig.applied.next()).payload).result == .applied)
        #expect(try await rig.setpointInDevice() == 12)
        await rig.shutdown()
    }
}
