import DeviceSimulators
import Foundation
@testable import Gateway
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

@Suite(.endToEnd) struct RelayServiceTests {
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
            #expect((try? RelayCommand.parse(Array(text.utf8), topic: "t").get()) == RelayCommand(state: state), "\(text)")
        }
        #expect((try? RelayCommand.parse(Array(#"{"on": true, "sequence": 7}"#.utf8), topic: "t").get())
            == RelayCommand(state: .on, sequence: 7))
        for text in [#"{"on": 1}"#, #"{"state": "on"}"#, "{}", "2", #"{"on": true, "sequence": -1}"#] {
            #expect((try? RelayCommand.parse(Array(text.utf8), topic: "t").get()) == nil, "\(text)")
        }
    }

    /// The simulated Phoenix EV-ETH on Modbus TCP and the gateway's device on it.
    static func simulatedIO() throws -> (ModbusSimulator, Int, ModbusDevice) {
        let simulator = ModbusSimulator()
        let phoenix = try profile("phoenix_ev_eth")
        try simulator.add(phoenix, unitID: 1)
        let port = try simulator.startTCP()
        let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
        return (simulator, port, ModbusDevice(id: "io", profile: phoenix, bus: bus, target: BusTarget(unitID: 1)))
    }

    /// A relay on a device's coil: the simulated Phoenix EV-ETH's coil 400 stands in
    /// for a relay module's output (the only coil a shipped profile serves).
    @Test func aCoilRelayIsWrittenToTheDeviceAndReadBackByASecondMaster() async throws {
        let (simulator, port, device) = try Self.simulatedIO()
        defer { simulator.stop() }
        let topics = TopicBuilder(site: uniqueSite())
        let gateway = try await connectedClient()
        let control = try await connectedClient()
        let states = try await control.subscribe(topics.relayState("contactor"), qos: .atLeastOnce)
        let answers = try await control.subscribe(topics.relayApplied("contactor"), qos: .atLeastOnce)
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
        try control.publish(MQTTMessage(topic: topics.relayCommand("contactor"), string: #"{"on": true, "sequence": 41}"#,
                                        qos: .atLeastOnce))
        let on = try json(await states.next())
        #expect(on["on"] as? Bool == true && on["simulated"] as? Bool == false)
        #expect(try await coilIsOn())
        // Each command answered on …/applied, with its sequence.
        let applied = try #require(await answers.next())
        let answer = try json(applied)
        #expect(answer["result"] as? String == "applied" && answer["on"] as? Bool == true && answer["sequence"] as? Int == 41)
        try control.publish(MQTTMessage(topic: topics.relayCommand("contactor"), string: "maybe", qos: .atLeastOnce))
        let refused = try #require(await answers.next())
        #expect(try json(refused)["result"] as? String == "refused")
        #expect((try json(refused)["reason"] as? String ?? "").contains("expected on, off"))
        #expect(try await coilIsOn(), "a refused command changes nothing")
        try await expectValid([applied.payload, refused.payload], schema: "relay-applied.schema.json")
        try control.publish(MQTTMessage(topic: topics.status(.control), string: "offline", qos: .atLeastOnce))
        #expect(try json(await states.next())["source"] as? String == "fallback")
        #expect(try await coilIsOn() == false)
        running.stop()
        await gateway.shutdown()
        await control.shutdown()
    }

    /// A write the device refuses (a coil it does not serve: Modbus exception) is answered
    /// `failed` with the reason, and the state is not published as switched.
    @Test func aWriteTheDeviceRefusesIsAnsweredFailed() async throws {
        let (simulator, _, device) = try Self.simulatedIO()
        defer { simulator.stop() }
        let topics = TopicBuilder(site: uniqueSite())
        let gateway = try await connectedClient()
        let control = try await connectedClient()
        let answers = try await control.subscribe(topics.relayApplied("nowhere"), qos: .atLeastOnce)
        let states = try await control.subscribe(topics.relayState("nowhere"), qos: .atLeastOnce)
        let errors = try await control.subscribe(topics.error(.gateway), qos: .atLeastOnce)
        let running = RunningServices([RelayService(
            config: RelayConfig(id: "nowhere", device: "io", coil: 9999, default: .off), device: device, client: gateway,
            topics: topics, logger: quietLogger)])
        defer { running.stop() }
        // The default at start fails the same way (the service is subscribed by then).
        #expect((try json(await errors.next())["reason"] as? String ?? "").contains("write failed"))
        try control.publish(MQTTMessage(topic: topics.relayCommand("nowhere"), string: #"{"on": true, "sequence": 3}"#,
                                        qos: .atLeastOnce))
        let failed = try #require(await answers.next())
        let answer = try json(failed)
        #expect(answer["result"] as? String == "failed" && answer["sequence"] as? Int == 3)
        #expect((answer["reason"] as? String ?? "").contains("write failed"))
        #expect(await states.next(timeout: .milliseconds(300)) == nil, "no state for a relay that was not switched")
        try await expectValid([failed.payload], schema: "relay-applied.schema.json")
        running.stop()
        await gateway.shutdown()
        await control.shutdown()
    }
}
