import Control
import ControlService
import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorTesting
import ServiceLifecycle

/// phasor-control's service in-process on the shared real broker, on a clock the
/// test moves, with one client playing both the gateway (retained JSON states, as
/// the gateway publishes them) and the operator.
final class ControlHarness: Sendable {
    let topics: TopicBuilder
    let clock: ManualWallClock
    let peer: MQTTClient
    private let serviceClient: MQTTClient
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// A site tree with one 20 A main connection metered by `grid` and two
    /// three-phase 16 A charge points; slider high enough that breakers decide.
    /// The harness publishes a meter that shows the house alone and charger states without
    /// currents, so nothing could show a car following a setpoint: its cars are taken to
    /// follow at once (no EV response time, no spacing of increases, no breaker margin).
    /// Sequencing on real timing is tested in ControlTests (`TimedSite`) and SiteTests.
    static let siteYAML = """
        budget: {slider_kw: 20}
        timing: {ev_response_seconds: 0, increase_interval_seconds: 0, breaker_margin_a: 0}
        site:
          id: main
          current_limit: 20
          meter: grid
          charge_points:
            - {id: cp1, max_current: 16}
            - {id: cp2, max_current: 16}
        """

    static let logger: Logger = {
        var l = Logger(label: "control-test")
        l.logLevel = .critical
        return l
    }()

    init(
        site: String, yaml: String = siteYAML, clock: ManualWallClock, stateDirectory: String? = nil,
        cycleInterval: Duration = .seconds(3600)
    ) async throws {
        let port = try await SharedBroker.port()
        topics = TopicBuilder(site: site)
        self.clock = clock
        serviceClient = try makeClient(port: port)
        try await serviceClient.connect()
        peer = try makeClient(port: port)
        try await peer.connect()
        let service = ControlLoopService(
            client: serviceClient, topics: topics, model: try SiteModel.load(yaml: yaml), logger: Self.logger,
            clock: clock, stateDirectory: stateDirectory, cycleInterval: cycleInterval, startupDelay: .milliseconds(100),
            saveInterval: .seconds(3600))
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: Self.logger))
        self.group = group
        running = Task { try await group.run() }
        try await waitUntilListening()
    }

    /// The service subscribes as it starts and would miss anything published before.
    /// A fixed sleep raced on a loaded machine, so probe: an unknown command is
    /// answered on `error/control` once the service listens.
    private func waitUntilListening() async throws {
        let errors = try await peer.subscribe(topics.error(.control), qos: .atLeastOnce)
        let answers = Locked(0)
        // Collected in a task: a timed-out `next` would end the subscription.
        let collector = Task { for await _ in errors { answers.withLock { $0 += 1 } } }
        defer { collector.cancel() }
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            try peer.publish(MQTTMessage(topic: topics.controlSet("readiness_probe"), string: "1", qos: .atLeastOnce))
            try await Task.sleep(for: .milliseconds(250))
            if answers.withLock({ $0 }) > 0 {
                // Replies to earlier probes may still be on their way: let them pass
                // before a test starts reading refusals.
                var seen = answers.withLock { $0 }
                repeat {
                    try await Task.sleep(for: .milliseconds(500))
                    let now = answers.withLock { $0 }
                    if now == seen { return }
                    seen = now
                } while true
            }
        }
        throw ChildProcessError.notReady("control service did not answer a probe command within 20 s")
    }

    /// Graceful shutdown, as on SIGTERM: the service saves its state on the way out.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        await serviceClient.shutdown()
        await peer.shutdown()
    }

    func subscribe(_ filter: String) async throws -> MQTTSubscription {
        try await peer.subscribe(filter, options: .init(qos: .atLeastOnce, retainAsPublished: true))
    }

    /// A grid meter state as the gateway publishes it: per-phase import currents,
    /// per-phase and total power at 230 V, taken at the clock's now.
    func publishMeter(_ currents: [Double], device: String = "grid") throws {
        var reading = Reading(device: device, time: MeterTimestamp(date: clock.now(), utcOffsetSeconds: 0))
        for (i, amperes) in currents.enumerated() {
            reading.set(Quantity.current.phase(i + 1), amperes)
            reading.set(Quantity.power.phase(i + 1), amperes * 230)
        }
        reading.set(.power, currents.reduce(0, +) * 230)
        try peer.publish(MQTTMessage(topic: topics.meterState(device), payload: ReadingPayload.encode(reading),
                                     qos: .atLeastOnce, retain: true))
    }

    func publishCharger(_ id: String, online: Bool = true, status: ChargePointStatus, currents: [Double] = [0, 0, 0]) throws {
        let state = ChargePointStatePayload(
            id: id, time: clock.now(), online: online, status: status, currents: currents, safeCurrent: 6)
        try peer.publish(MQTTMessage(topic: topics.chargePointState(id), payload: state.encode(), qos: .atLeastOnce, retain: true))
    }

    func command(_ path: String, _ payload: String, retain: Bool = false) throws {
        try peer.publish(MQTTMessage(topic: topics.controlSet(path), string: payload, qos: .atLeastOnce, retain: retain))
    }

    /// Clears what this test left retained on the shared broker.
    func clearRetained(_ topics: [String]) throws {
        for topic in topics { try peer.publish(MQTTMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true)) }
    }
}

/// A decoded setpoint message with the charge point it was for.
struct ReceivedSetpoint {
    var chargePoint: String
    var payload: SetpointPayload
    var retained: Bool
}

extension MQTTSubscription {
    /// The next setpoint of `chargePoint` that satisfies `predicate`.
    func nextSetpoint(
        _ chargePoint: String, timeout: Duration = .seconds(10),
        where predicate: @escaping @Sendable (SetpointPayload) -> Bool = { _ in true }
    ) async -> ReceivedSetpoint? {
        let message = await self.next(timeout: timeout) { m in
            guard m.topic.hasSuffix("/chargepoint/\(chargePoint)/setpoint"),
                let payload = try? SetpointPayload.decode(m.payload)
            else { return false }
            return predicate(payload)
        }
        guard let message, let payload = try? SetpointPayload.decode(message.payload) else { return nil }
        return ReceivedSetpoint(chargePoint: chargePoint, payload: payload, retained: message.retain)
    }

    /// The next `…/control/state` satisfying `predicate`, as a JSON object.
    func nextState(timeout: Duration = .seconds(10), where predicate: @escaping @Sendable (ControlStateView) -> Bool = { _ in true })
        async -> ControlStateView?
    {
        let message = await self.next(timeout: timeout) { m in
            guard let view = ControlStateView(m.payload) else { return false }
            return predicate(view)
        }
        return message.flatMap { ControlStateView($0.payload) }
    }
}

/// Typed reads of a `…/control/state` payload.
struct ControlStateView: @unchecked Sendable {
    let bytes: [UInt8]
    let object: [String: Any]

    init?(_ bytes: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            object["charge_points"] != nil
        else { return nil }
        self.bytes = bytes
        self.object = object
    }

    var sequence: Int { object["sequence"] as? Int ?? -1 }
    var sliderKW: Double? { object["slider_kw"] as? Double }
    var budget: [String: Any] { object["budget"] as? [String: Any] ?? [:] }
    var staleMeters: [String] { object["stale_meters"] as? [String] ?? [] }
    func point(_ id: String) -> [String: Any]? {
        (object["charge_points"] as? [[String: Any]])?.first { $0["id"] as? String == id }
    }
}
