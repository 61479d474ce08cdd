import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorService
import ServiceLifecycle

/// The control service's MQTT side: follows the grid meter's state, accepts the
/// energy slider on `…/control/slider/set` (validated; refused with a reason on
/// `…/error/control`), and publishes `…/control/state` on every meter reading.
public final class ControlLoopService: Service, Sendable {
    /// The slider's accepted range, kW. The Belgian capacity tariff bills at least
    /// 2.5 kW, so a lower target saves nothing.
    public static let sliderRange: ClosedRange<Double> = 2.5...1000

    struct State {
        var sliderKw: Double
        var gridDevice: String?
        var gridPower: Double?
        var gridTime: String?
    }

    let client: MQTTClient
    let topics: TopicBuilder
    let logger: Logger
    let clock: any WallClock
    let state: Locked<State>

    public init(client: MQTTClient, topics: TopicBuilder, sliderKw: Double, logger: Logger,
                clock: any WallClock = SystemWallClock()) {
        self.client = client
        self.topics = topics
        self.logger = logger
        self.clock = clock
        self.state = Locked(State(sliderKw: sliderKw))
    }

    public func run() async throws {
        let readings = try await client.subscribe("\(topics.root)/meter/+/state", qos: .atLeastOnce)
        // Commands are `…/control/<path>/set`; `control/state` (ours) is filtered out below.
        let commands = try await client.subscribe("\(topics.root)/control/#", qos: .atLeastOnce)
        publishState()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await m in readings { self.handleReading(m) } }
            group.addTask { for await m in commands where m.topic.hasSuffix("/set") { self.handleCommand(m) } }
            group.addTask {
                try? await gracefulShutdown()
                readings.cancel()
                commands.cancel()
            }
        }
    }

    func handleReading(_ message: MQTTMessage) {
        guard let decoded = try? ReadingPayload.decode(message.payload) else {
            logger.warning("unreadable meter state", metadata: ["topic": "\(message.topic)"])
            return
        }
        guard let power = decoded.values[.power]?.number
            ?? zipImportExport(decoded.values[.powerImport]?.number, decoded.values[.powerExport]?.number)
        else { return }
        state.withLock { s in
            s.gridDevice = decoded.device
            s.gridPower = power
            s.gridTime = decoded.time
        }
        publishState()
    }

    private func zipImportExport(_ imp: Double?, _ exp: Double?) -> Double? {
        guard let imp else { return nil }
        return imp - (exp ?? 0)
    }

    func handleCommand(_ message: MQTTMessage) {
        guard message.topic == topics.controlSet("slider") else {
            refuse(CommandError(topic: message.topic, field: "topic", reason: "unknown command topic", payload: message.string))
            return
        }
        switch NumericCommand.parse(message.payload, topic: message.topic, field: "slider", range: Self.sliderRange, unit: "kW") {
        case .success(let kw):
            state.withLock { $0.sliderKw = kw }
            logger.notice("energy slider set", metadata: ["slider_kw": "\(kw)"])
            publishState()
        case .failure(let error):
            refuse(error)
        }
    }

    private func refuse(_ error: CommandError) {
        logger.warning("command refused", metadata: ["topic": "\(error.topic)", "field": "\(error.field)", "reason": "\(error.reason)"])
        try? client.publish(MQTTMessage(topic: topics.error(.control), payload: error.json(at: clock.now()), qos: .atLeastOnce))
    }

    func publishState() {
        let s = state.withLock { $0 }
        var w = JSONWriter()
        w.beginObject()
        w.key("time"); w.value(MeterTimestamp(date: clock.now(), utcOffsetSeconds: 0).iso8601)
        w.key("slider_kw"); w.value(s.sliderKw)
        w.key("grid_device"); if let d = s.gridDevice { w.value(d) } else { w.null() }
        w.key("grid_power"); if let p = s.gridPower { w.value(p) } else { w.null() }
        w.key("grid_time"); if let t = s.gridTime { w.value(t) } else { w.null() }
        w.endObject()
        try? client.publish(MQTTMessage(topic: topics.controlState, payload: w.bytes, qos: .atLeastOnce, retain: true,
                                        properties: .init(contentType: "application/json")))
    }
}
