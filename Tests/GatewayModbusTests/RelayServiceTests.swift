import Foundation
@testable import Gateway
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing

@Suite struct RelayServiceTests {
    @Test func aRelayFollowsCommandsRefusesNonsenseAndFallsBackToItsDefault() async throws {
        let topics = TopicBuilder(site: uniqueSite())
        let gateway = try await connectedClient()
        let control = try await connectedClient()
        let states = try await control.subscribe(topics.relayState("boiler"), qos: .atLeastOnce)
        let errors = try await control.subscribe(topics.error(.gateway), qos: .atLeastOnce)
        let running = RunningServices([RelayService(
            config: RelayConfig(id: "boiler", default: .off), device: nil, client: gateway, topics: topics, logger: quietLogger)])
        defer { running.stop() }

        let initial = try json(await states.next())
        #expect(initial["on"] as? Bool == false && initial["source"] as? String == "default")
        try control.publish(MQTTMessage(topic: topics.relayCommand("boiler"), string: #"{"on": true}"#, qos: .atLeastOnce))
        let on = try #require(await states.next())
        #expect(try json(on)["on"] as? Bool == true)

        try control.publish(MQTTMessage(topic: topics.relayCommand("boiler"), string: "maybe", qos: .atLeastOnce))
        let refusal = try json(await errors.next())
        #expect((refusal["reason"] as? String ?? "").contains("expected on, off"))

        try control.publish(MQTTMessage(topic: topics.status(.control), string: "offline", qos: .atLeastOnce))
        let fallback = try json(await states.next())
        #expect(fallback["on"] as? Bool == false && fallback["source"] as? String == "fallback")
        try await expectValid([on.payload], schema: "relay-state.schema.json")
        running.stop()
        await gateway.shutdown()
        await control.shutdown()
    }

    /// A control that hangs while connected (status `online`, heartbeat older than three
    /// beats) returns the relays to their default, as charge points fall back: a heat pump
    /// left at SG-Ready Off would otherwise stay locked. Time is the injected clock.
    @Test func aSilentControlReturnsTheRelayToItsDefault() async throws {
        let topics = TopicBuilder(site: uniqueSite())
        let gateway = try await connectedClient()
        let control = try await connectedClient()
        let clock = ManualWallClock(Date())
        let states = try await control.subscribe(topics.relayState("hp_sg0"), qos: .atLeastOnce)
        let running = RunningServices([RelayService(
            config: RelayConfig(id: "hp_sg0", default: .off), device: nil, client: gateway, topics: topics, clock: clock,
            logger: quietLogger, judgeInterval: .milliseconds(20))])
        defer { running.stop() }
        #expect(try json(await states.next())["source"] as? String == "default")

        let started = clock.now()
        try control.publish(MQTTMessage(topic: topics.status(.control), string: "online", qos: .atLeastOnce))
        try control.publish(MQTTMessage(
            topic: topics.heartbeat(.control), payload: HeartbeatPayload(service: "control", started: started, time: started).encode(),
            qos: .atLeastOnce))
        try control.publish(MQTTMessage(topic: topics.relayCommand("hp_sg0"), string: "on", qos: .atLeastOnce))
        #expect(try json(await states.next())["on"] as? Bool == true)
        // 14 s without a beat (interval 5 s, three missed = 15 s): still alive, nothing moves.
        // (A `next` that times out ends its subscription: each wait below has its own.)
        clock.advance(by: 14)
        #expect(await states.next(timeout: .milliseconds(300)) == nil)
        let later = try await control.subscribe(topics.relayState("hp_sg0"), qos: .atLeastOnce)
        #expect(try json(await later.next())["source"] as? String == "command", "the retained state, unchanged")
        clock.advance(by: 2)
        let fallback = try json(await later.next())
        #expect(fallback["on"] as? Bool == false && fallback["source"] as? String == "fallback")
        // Once only: the judge keeps running, the relay is not rewritten every tick.
        #expect(await later.next(timeout: .milliseconds(300)) == nil)
        running.stop()
        await gateway.shutdown()
        await control.shutdown()
    }

    @Test func relayCommandsParseWordsNumbersAndJSON() {
        for (text, state) in [("on", RelayConfig.State.on), ("OFF", .off), ("1", .on), ("false", .off), (#"{"on": false}"#, .off)] {
            #expect((try? RelayCommand.parse(Array(text.utf8), topic: "t").get()) == state, "\(text)")
        }
        for text in [#"{"on": 1}"#, #"{"state": "on"}"#, "{}", "2"] {
            #expect((try? RelayCommand.parse(Array(text.utf8), topic: "t").get()) == nil, "\(text)")
        }
    }

    /// A relay on a device's coil: the simulated Phoenix EV-ETH's coil 400 stands in
    /// for a relay module's output (the only coil a shipped profile serves).
    @Test func aCoilRelayIsWrittenToTheDeviceAndReadBackByASecondMaster() async throws {
        let simulator = ModbusSimulator()
        let phoenix = try profile("phoenix_ev_eth")
        try simulator.add(phoenix, unitID: 1)
        let port = try simulator.startTCP()
        defer { simulator.stop() }
        let topics = TopicBuilder(site: uniqueSite())
        let gateway = try await connectedClient()
        let control = try await connectedClient()
        let states = try await control.subscribe(topics.relayState("contactor"), qos: .atLeastOnce)
        let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
        let device = ModbusDevice(id: "io", profile: phoenix, bus: bus, target: BusTarget(unitID: 1))
        let running = RunningServices([RelayService(
            config: RelayConfig(id: "contactor", device: "io", coil: 400, default: .off), device: device, client: gateway,
            topics: topics, logger: quietLogger)])
        defer { running.stop() }
        func coilIsOn() async throws -> Bool {
            let second = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
            defer { Task { await second.close() } }
            return try await second.readBits(.coils, address: 400, count: 1, target: BusTarget(unitID: 1)) == [true]
        }

        #expect(try json(await states.next())["source"] as? String == "default")
        #expect(try await coilIsOn() == false)
        try control.publish(MQTTMessage(topic: topics.relayCommand("contactor"), string: "on", qos: .atLeastOnce))
        let on = try json(await states.next())
        #expect(on["on"] as? Bool == true && on["simulated"] as? Bool == false)
        #expect(try await coilIsOn())
        try control.publish(MQTTMessage(topic: topics.status(.control), string: "offline", qos: .atLeastOnce))
        #expect(try json(await states.next())["source"] as? String == "fallback")
        #expect(try await coilIsOn() == false)
        running.stop()
        await gateway.shutdown()
        await control.shutdown()
    }
}

