import Bridge
import Control
import ControlService
import Foundation
import Gateway
import Logging
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// The services' MQTT behaviour in-process, and every payload they publish checked
/// against schemas/ by an independent validator.
@Suite(.endToEnd) struct PublishedPayloadTests {
    let logger: Logger = {
        var l = Logger(label: "payload-test")
        l.logLevel = .critical
        return l
    }()

    @Test func gatewayPublishesStateAndPerQuantityTopicsThatMatchTheSchema() async throws {
        let port = try await SharedBroker.port()
        let topics = TopicBuilder(site: uniqueSite())
        let client = try makeClient(port: port)
        try await client.connect()
        let states = try await client.subscribe(topics.meterState("grid"), options: .init(qos: .atLeastOnce, retainAsPublished: true))
        let power = try await client.subscribe(topics.meterQuantity("grid", .powerImport), qos: .atLeastOnce)
        let meter = DemoMeter()
        let reading = meter.reading(at: Date(timeIntervalSince1970: 1_800_000_000))
        try ReadingPublisher(client: client, topics: topics).publish(reading)

        let state = try #require(await next(states))
        let decoded = try ReadingPayload.decode(state.payload)
        #expect(decoded.device == "grid")
        #expect(decoded.values[.powerImport] == reading[.powerImport])
        #expect(state.retain)
        #expect(await next(power)?.string == ReadingPayload.encodeValue(reading[.powerImport]!).reduce("") { $0 + String(UnicodeScalar($1)) })
        if let result = try await validate([state.payload], against: "meter-state.schema.json") {
            #expect(result.status == 0, "\(result.output)")
        }
        await client.shutdown()
    }

    @Test func controlAcceptsAValidSliderAndRefusesBadOnesWithAReason() async throws {
        let port = try await SharedBroker.port()
        let topics = TopicBuilder(site: uniqueSite())
        let service = try makeClient(port: port)
        try await service.connect()
        let control = ControlLoopService(
            client: service, topics: topics, model: try SiteModel(config: DemoControlSite.config), logger: logger,
            cycleInterval: .milliseconds(200))
        let run = Task { try await control.run() }

        let operatorClient = try makeClient(port: port)
        try await operatorClient.connect()
        let errors = try await operatorClient.subscribe(topics.error(.control), qos: .atLeastOnce)
        let states = try await operatorClient.subscribe(topics.controlState, qos: .atLeastOnce)
        _ = await next(states)  // the initial state
        try await Task.sleep(for: .milliseconds(200))  // control has subscribed

        var refusals: [[UInt8]] = []
        for (payload, field, reasonPart) in [
            ("abc", "slider", "expected a number"), ("1.0", "slider", "outside"), ("{\"value\": true}", "slider", "must be a number"),
            ("{\"value\": 4, \"unit\": \"W\"}", "slider", "unknown field"), ("nan", "slider", "finite"),
        ] {
            try operatorClient.publish(MQTTMessage(topic: topics.controlSet("slider"), string: payload, qos: .atLeastOnce))
            refusals.append(try await expectRefusal(errors, field: field, reason: reasonPart))
        }
        try operatorClient.publish(MQTTMessage(topic: topics.controlSet("nonsense"), string: "1", qos: .atLeastOnce))
        #expect(await next(errors)?.string.contains("unknown command topic") == true)

        try operatorClient.publish(MQTTMessage(topic: topics.controlSet("slider"), string: "{\"value\": 4.5}", qos: .atLeastOnce))
        let state = try #require(await next(states) { m in m.string.contains("\"slider_kw\":4.5") })
        if let result = try await validate(refusals, against: "error.schema.json") { #expect(result.status == 0, "\(result.output)") }
        if let result = try await validate([state.payload], against: "control-state.schema.json") { #expect(result.status == 0, "\(result.output)") }

        run.cancel()
        await operatorClient.shutdown()
        await service.shutdown()
    }

    @Test func bridgeRaisesAndClearsAServiceOfflineAlert() async throws {
        let port = try await SharedBroker.port()
        let topics = TopicBuilder(site: uniqueSite())
        let bridgeClient = try makeClient(port: port)
        try await bridgeClient.connect()
        let watch = ServiceWatchService(client: bridgeClient, topics: topics, logger: logger)
        let run = Task { try await watch.run() }
        let observer = try makeClient(port: port)
        try await observer.connect()
        let alerts = try await observer.subscribe("\(topics.root)/alert/#", qos: .atLeastOnce)
        try await Task.sleep(for: .milliseconds(200))

        for status in ["online", "offline", "online"] {
            try observer.publish(MQTTMessage(topic: topics.status(.gateway), string: status, qos: .atLeastOnce, retain: true))
        }
        let raised = try #require(await next(alerts))
        let cleared = try #require(await next(alerts))
        #expect(raised.topic == topics.alert("service_gateway"))
        #expect(raised.string.contains("\"active\":true"))
        #expect(cleared.string.contains("\"active\":false"))
        if let result = try await validate([raised.payload, cleared.payload], against: "alert.schema.json") {
            #expect(result.status == 0, "\(result.output)")
        }
        try observer.publish(MQTTMessage(topic: topics.status(.gateway), payload: [], qos: .atLeastOnce, retain: true))
        run.cancel()
        await observer.shutdown()
        await bridgeClient.shutdown()
    }
}
