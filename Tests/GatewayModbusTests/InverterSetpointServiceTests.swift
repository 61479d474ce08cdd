import DeviceSimulators
import Foundation
@testable import Gateway
import Modbus
import MQTT
import PhasorCore
import PhasorService
import PhasorTesting
import Testing
import TestTraits

/// The gateway writes an inverter's active-power limit (SunSpec model 123, WMaxLimPct in
/// percent of the site's rating) on a simulated inverter over Modbus TCP, takes control's
/// setpoints from mosquitto, refuses bad ones, and writes the safe limit at start, when a
/// setpoint's validity runs out and when control goes offline. The simulated inverter
/// follows a new limit after 1.5 s (injected clock), a second master reads what it produces.
@Suite(.serialized, .endToEnd) struct InverterSetpointServiceTests {
    /// 12:00 UTC: the simulator's PV model gives its 5 kW peak.
    static let noon = Date(timeIntervalSince1970: 1_781_524_800)

    struct Rig {
        let clock = ManualWallClock(noon)
        let simulator: ModbusSimulator
        let port: Int
        let topics = TopicBuilder(site: uniqueSite("inverter-\(UUID().uuidString.prefix(8))"))
        let gateway: MQTTClient
        let control: MQTTClient
        let running: RunningServices
        let applied: MQTTSubscription
        let errors: MQTTSubscription
        let profile: ResolvedProfile

        init(responding: Bool = true) async throws {
            simulator = ModbusSimulator(clock: clock)
            profile = try shippedProfile("sunspec_inverter")
            try simulator.add(profile, unitID: 1)
            simulator.setResponding(1, responding)
            port = try simulator.startTCP()
            gateway = try await connectedClient()
            control = try await connectedClient()
            applied = try await control.subscribe(topics.inverterApplied("pv"), qos: .atLeastOnce)
            errors = try await control.subscribe(topics.error(.gateway), qos: .atLeastOnce)
            let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
            let device = ModbusDevice(id: "pv", profile: profile, bus: bus, target: BusTarget(unitID: 1), clock: clock)
            let writer = try InverterSetpointWriter(
                device: device, limits: InverterSetpointLimits(activePowerMaxW: 10_000, activePowerSafeW: 3000, validityS: 20),
                clock: clock)
            running = RunningServices([InverterSetpointService(
                id: "pv", writer: writer, client: gateway, topics: topics, clock: clock, tick: .milliseconds(20),
                logger: quietLogger)])
        }

        /// What the inverter produces, read by a second master (pv_power with its scale factor).
        func pvPower() async throws -> Double? {
            let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
            let reader = ModbusDevice(id: "reader", profile: profile, bus: bus, target: BusTarget(unitID: 1), clock: clock)
            defer { Task { await bus.close() } }
            return try await reader.poll(groups: reader.allGroups).number(.pvPower)
        }

        /// The WMaxLimPct register, %.
        func limitPercent() async throws -> Double? {
            try await readValue(RegisterLayout(address: RegisterAddress(40233), table: .holdingRegisters, type: .uint16),
                                port: port, unit: 1)
        }

        func controlAlive() throws {
            let now = clock.now()
            try control.publish(MQTTMessage(topic: topics.status(.control), string: "online", qos: .atLeastOnce))
            try control.publish(MQTTMessage(
                topic: topics.heartbeat(.control), payload: HeartbeatPayload(service: "control", started: now, time: now).encode(),
                qos: .atLeastOnce))
        }

        func send(_ text: String, retain: Bool = false) throws {
            try control.publish(MQTTMessage(topic: topics.inverterSetpoint("pv"), string: text, qos: .atLeastOnce, retain: retain))
        }

        func stop() async {
            running.stop()
            simulator.stop()
            await gateway.shutdown()
            await control.shutdown()
        }
    }

    @Test func theLimitIsWrittenFollowedRefusedWhenBadAndSafeWhenControlGoesQuiet() async throws {
        let rig = try await Rig()
        var documents: [[UInt8]] = []

        // At start the gateway writes the safe limit: 3000 W of 10 kW = 30 %.
        let start = try json(await rig.applied.next())
        #expect(start["result"] as? String == "fallback" && start["active_power_limit_w"] as? Double == 3000)
        #expect(try await rig.limitPercent() == 30)
        #expect(try await rig.pvPower() == 5000, "not followed yet: the inverter takes 1.5 s")
        rig.clock.advance(by: 2)
        #expect(try await rig.pvPower() == 3000)

        // Control's setpoint: 4 kW = 40 %, followed after the response time.
        try rig.controlAlive()
        try await Task.sleep(for: .milliseconds(100))
        try rig.send(#"{"active_power_limit_w": 4000, "valid_s": 30, "sequence": 7, "reason": "export: curtailed"}"#)
        let written = try #require(await rig.applied.next())
        documents.append(written.payload)
        let ok = try json(written)
        #expect(ok["result"] as? String == "applied" && ok["sequence"] as? Int == 7 && ok["active_power_limit_w"] as? Double == 4000)
        #expect(try await rig.limitPercent() == 40)
        rig.clock.advance(by: 1)
        #expect(try await rig.pvPower() == 3000, "1 s after the write the inverter has not followed")
        rig.clock.advance(by: 1)
        #expect(try await rig.pvPower() == 4000)

        // Refused, nothing written: above the rating, a field the profile lacks, negative,
        // not a number, unknown field, retained.
        for (payload, field, words) in [
            (#"{"active_power_limit_w": 12000}"#, "active_power_limit_w", "above this device's rating of 10000 W"),
            (#"{"battery_max_charge_w": 1000}"#, "battery_max_charge_w", "no register"),
            (#"{"active_power_limit_w": -5}"#, "active_power_limit_w", "negative"),
            (#"{"active_power_limit_w": "4kW"}"#, "active_power_limit_w", "must be a number"),
            (#"{"limit": 4000}"#, "limit", "unknown field"),
            (#"{"active_power_limit_w": 4000, "valid_s": 1}"#, "valid_s", "5…3600"),
        ] {
            try rig.send(payload)
            let error = try json(await rig.errors.next())
            #expect(error["field"] as? String == field, "\(payload)")
            #expect((error["reason"] as? String ?? "").contains(words), "\(payload): \(error["reason"] ?? "")")
            let refused = try #require(await rig.applied.next())
            documents.append(refused.payload)
            #expect(try json(refused)["result"] as? String == "refused")
        }
        try rig.send(#"{"active_power_limit_w": 9000}"#, retain: true)
        #expect((try json(await rig.errors.next())["reason"] as? String ?? "").contains("retained"))
        _ = await rig.applied.next()
        try rig.control.publish(MQTTMessage(topic: rig.topics.inverterSetpoint("pv"), payload: [], qos: .atLeastOnce, retain: true))
        #expect(try await rig.limitPercent() == 40, "nothing written by refused setpoints")

        // A limit between two steps of the register is rounded down (33 %, not 34 %).
        try rig.send(#"{"active_power_limit_w": 3399, "valid_s": 30}"#)
        #expect(try json(await rig.applied.next())["result"] as? String == "applied")
        #expect(try await rig.limitPercent() == 33)

        // null lifts the limit (100 %).
        try rig.send(#"{"active_power_limit_w": null, "sequence": 8}"#)
        let lifted = try json(await rig.applied.next())
        #expect(lifted["result"] as? String == "applied" && lifted["active_power_limit_w"] as? Double == 10_000)
        #expect(try await rig.limitPercent() == 100)

        // The setpoint holds 20 s (the site's validity_s): at 21 s the safe limit is back,
        // control still beating.
        // (Time moves in 5 s steps with a fresh heartbeat each: control must not look silent.)
        for _ in 0..<4 {
            rig.clock.advance(by: 5)
            try rig.controlAlive()
            try await Task.sleep(for: .milliseconds(100))
        }
        rig.clock.advance(by: 1)
        let expired = try #require(await rig.applied.next())
        documents.append(expired.payload)
        let e = try json(expired)
        #expect(e["result"] as? String == "fallback" && e["active_power_limit_w"] as? Double == 3000)
        #expect((e["reason"] as? String ?? "").contains("expired"))
        #expect(try await rig.limitPercent() == 30)
        rig.clock.advance(by: 2)
        #expect(try await rig.pvPower() == 3000)

        // A new setpoint, then control goes offline: safe again, and a late setpoint is refused.
        try rig.send(#"{"active_power_limit_w": 5000}"#)
        #expect(try json(await rig.applied.next())["result"] as? String == "applied")
        #expect(try await rig.limitPercent() == 50)
        try rig.control.publish(MQTTMessage(topic: rig.topics.status(.control), string: "offline", qos: .atLeastOnce))
        let offline = try json(await rig.applied.next())
        #expect(offline["result"] as? String == "fallback" && (offline["reason"] as? String ?? "").contains("offline"))
        #expect(try await rig.limitPercent() == 30)
        try rig.send(#"{"active_power_limit_w": 6000}"#)
        #expect((try json(await rig.errors.next())["reason"] as? String ?? "").contains("control is offline"))
        #expect(try await rig.limitPercent() == 30)

        try await expectValid(documents, schema: "inverter-applied.schema.json")
        try await expectValid([Array(#"{"active_power_limit_w": 4000, "valid_s": 30, "sequence": 7, "reason": "export: curtailed"}"#.utf8),
                               Array(#"{"active_power_limit_w": null, "battery_max_charge_w": 0}"#.utf8)],
                              schema: "inverter-setpoint.schema.json")
        await rig.stop()
    }

    /// An inverter that does not answer when the gateway starts gets its safe limit once it
    /// answers again (tried every 10 s, not every tick).
    @Test func safeValuesNotTakenAreTriedAgain() async throws {
        let rig = try await Rig(responding: false)
        let failed = try json(await rig.applied.next())
        #expect(failed["result"] as? String == "failed" && (failed["reason"] as? String ?? "").contains("safe values not written"))
        rig.simulator.setResponding(1, true)
        rig.clock.advance(by: 5)
        #expect(await rig.applied.next(timeout: .milliseconds(300)) == nil, "not before 10 s")
        let later = try await rig.control.subscribe(rig.topics.inverterApplied("pv"), qos: .atLeastOnce)
        _ = await later.next()  // the retained `failed`
        rig.clock.advance(by: 6)
        let retried = try json(await later.next())
        #expect(retried["result"] as? String == "fallback" && retried["active_power_limit_w"] as? Double == 3000)
        #expect(try await rig.limitPercent() == 30)
        await rig.stop()
    }

    /// A Huawei hybrid's battery limits (47075 / 47077, uint32 W, FC16) over Modbus TCP: the
    /// simulated battery, charging 3 kW from the noon sun, charges at most what was written
    /// once it has followed; control going quiet gives it back its maxima (its self-consumption).
    @Test func batteryLimitsAreWrittenAndFollowed() async throws {
        let clock = ManualWallClock(Self.noon)
        let simulator = ModbusSimulator(clock: clock)
        let huawei = try shippedProfile("huawei_sun2000")
        try simulator.add(huawei, unitID: 1)
        let port = try simulator.startTCP()
        defer { simulator.stop() }
        let topics = TopicBuilder(site: uniqueSite())
        let gateway = try await connectedClient()
        let control = try await connectedClient()
        let applied = try await control.subscribe(topics.inverterApplied("hybrid"), qos: .atLeastOnce)
        let device = ModbusDevice(id: "hybrid", profile: huawei,
                                  bus: ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions),
                                  target: BusTarget(unitID: 1), clock: clock)
        let writer = try InverterSetpointWriter(
            device: device, limits: InverterSetpointLimits(batteryMaxChargeW: 5000, batteryMaxDischargeW: 5000), clock: clock)
        let running = RunningServices([InverterSetpointService(
            id: "hybrid", writer: writer, client: gateway, topics: topics, clock: clock, tick: .milliseconds(20), logger: quietLogger)])
        defer { running.stop() }
        func batteryW() async throws -> Double? {
            let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
            defer { Task { await bus.close() } }
            return try await ModbusDevice(id: "r", profile: huawei, bus: bus, target: BusTarget(unitID: 1), clock: clock)
                .poll(groups: ["default"]).number(.batteryPower)
        }
        func register(_ address: UInt16) async throws -> Double? {
            try await readValue(RegisterLayout(address: RegisterAddress(address), table: .holdingRegisters, type: .uint32),
                                port: port, unit: 1)
        }

        #expect(try json(await applied.next())["result"] as? String == "fallback")
        #expect(try await register(47075) == 5000, "the maxima at start")
        #expect(try await register(47077) == 5000)
        #expect(try await batteryW() == -3000, "charging 3 kW from the sun")
        let now = clock.now()
        try control.publish(MQTTMessage(topic: topics.status(.control), string: "online", qos: .atLeastOnce))
        try control.publish(MQTTMessage(
            topic: topics.heartbeat(.control), payload: HeartbeatPayload(service: "control", started: now, time: now).encode(),
            qos: .atLeastOnce))
        try await Task.sleep(for: .milliseconds(100))
        try control.publish(MQTTMessage(topic: topics.inverterSetpoint("hybrid"),
                                        string: #"{"battery_max_charge_w": 1000, "battery_max_discharge_w": 0, "sequence": 1}"#,
                                        qos: .atLeastOnce))
        let ok = try json(await applied.next())
        #expect(ok["result"] as? String == "applied" && ok["battery_max_charge_w"] as? Double == 1000)
        #expect(try await register(47075) == 1000)
        #expect(try await register(47077) == 0)
        clock.advance(by: 2)
        #expect(try await batteryW() == -1000, "charging at most 1 kW once followed")

        try control.publish(MQTTMessage(topic: topics.status(.control), string: "offline", qos: .atLeastOnce))
        #expect(try json(await applied.next())["result"] as? String == "fallback")
        #expect(try await register(47075) == 5000)
        #expect(try await register(47077) == 5000)
        clock.advance(by: 2)
        #expect(try await batteryW() == -3000)
        running.stop()
        await gateway.shutdown()
        await control.shutdown()
    }

    @Test func theValidatorChecksFieldsAgainstTheProfileAndTheRatings() {
        let v = InverterSetpointValidator(
            fields: ["battery_max_charge_w", "battery_max_discharge_w"],
            limits: InverterSetpointLimits(batteryMaxChargeW: 5000, batteryMaxDischargeW: 4000))
        func check(_ text: String, online: Bool = true) -> Result<InverterSetpointPayload, CommandError> {
            v.validate(Array(text.utf8), topic: "t", deviceOnline: online)
        }
        let ok = try? check(#"{"battery_max_charge_w": 2500, "battery_max_discharge_w": 0}"#).get()
        #expect(ok?.values.map { $0.watts } == [2500, 0])
        #expect((try? check(#"{"battery_max_discharge_w": 4500}"#).get()) == nil, "above its rating")
        #expect((try? check(#"{"battery_max_charge_w": null}"#).get()) == nil, "only the active-power limit may be null")
        #expect((try? check(#"{"active_power_limit_w": 1000}"#).get()) == nil, "not in this profile")
        #expect((try? check("{}").get()) == nil, "no limit")
        #expect((try? check("2500").get()) == nil, "not an object")
        if case .failure(let e) = check(#"{"battery_max_charge_w": 100}"#, online: false) {
            #expect(e.reason.contains("offline"))
        } else {
            Issue.record("an offline inverter is not written")
        }
    }
}

/// A shipped profile (inside the rig, `profile` is its stored property).
private func shippedProfile(_ id: String) throws -> ResolvedProfile { try profile(id) }
