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

    @Test func relayCommandsParseWordsNumbersAndJSON() {
        for (text, state) in [("on", RelayConfig.State.on), ("OFF", .off), ("1", .on), ("false", .off), (#"{"on": false}"#, .off)] {
            #expect((try? RelayCommand.parse(Array(text.utf8), topic: "t").get()) == state, "\(text)")
        }
        for text in [#"{"on": 1}"#, #"{"state": "on"}"#, "{}", "2"] {
            #expect((try? RelayCommand.parse(Array(text.utf8), topic: "t").get()) == nil, "\(text)")
        }
    }
}
