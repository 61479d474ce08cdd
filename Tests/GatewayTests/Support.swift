import DeviceSimulators
import Foundation
import Gateway
import Logging
import MQTT
import MeterIO
import Modbus
import PhasorCore
import PhasorTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The files copied from /work/shared/testdata (see Fixtures/SOURCES.md).
enum Fixtures {
    static func bytes(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return [UInt8](try Data(contentsOf: url.appendingPathComponent(name)))
    }

    static func scriptPath(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Scripts", withExtension: nil)).appendingPathComponent(name).path
    }
}

func uniqueSite(_ name: String = #function) -> String {
    "g\(name.prefix(while: { $0 != "(" }).prefix(20))\(UUID().uuidString.prefix(6))"
}

func quietLogger(_ label: String = "gateway-test") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
}

func connectedClient(port: Int) async throws -> MQTTClient {
    let client = try MQTTClient(
        configuration: MQTTConfiguration(
            host: "127.0.0.1", port: port, clientID: "gt-\(UUID().uuidString.prefix(10))",
            reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))),
        logger: quietLogger())
    try await client.connect()
    return client
}

/// Collects every message of a subscription so a test can wait for one that
/// matches and count what arrived.
final class Inbox: Sendable {
    private let messages = Locked<[MQTTMessage]>([])
    private let task: Task<Void, Never>

    init(_ subscription: MQTTSubscription) {
        let messages = self.messages
        task = Task {
            for await m in subscription { messages.withLock { $0.append(m) } }
        }
    }

    deinit { task.cancel() }

    var all: [MQTTMessage] { messages.withLock { $0 } }

    func on(_ topic: String) -> [MQTTMessage] { all.filter { $0.topic == topic } }

    /// Waits (polling real I/O, up to `timeout`) for a message on `topic` matching
    /// `predicate`, among those after the first `skipping` of that topic.
    func next(on topic: String, after skipping: Int = 0, timeout: Duration = .seconds(10),
              where predicate: (MQTTMessage) -> Bool = { _ in true }) async -> MQTTMessage? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let m = on(topic).dropFirst(skipping).last(where: predicate) { return m }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func clear() { messages.withLock { $0.removeAll() } }
}

/// What a subscriber arriving now gets on `topic`: the retained message, if any.
func retainedMessage(_ topic: String) async throws -> MQTTMessage? {
    let late = try await connectedClient(port: try await SharedBroker.port())
    let inbox = Inbox(try await late.subscribe(topic, qos: .atLeastOnce))
    // 10 s: the whole suite runs in parallel in CI; 2 s once missed a retained value there.
    let message = await inbox.next(on: topic, timeout: .seconds(10))
    await late.shutdown()
    return message
}

/// A meter service under test, reading `settings.source` (or `source`) and
/// publishing to the shared broker on a fresh site, with a clock the test moves.
final class MeterHarness: Sendable {
    let topics: TopicBuilder
    let clock = ManualWallClock()
    let service: MeterService
    let inbox: Inbox
    private let publisherClient: MQTTClient
    private let watcher: MQTTClient
    private let task: Task<Void, any Error>

    init(_ configuration: MeterConfiguration, source: (any ByteSource)? = nil, site: String = uniqueSite()) async throws {
        let port = try await SharedBroker.port()
        topics = TopicBuilder(site: site)
        watcher = try await connectedClient(port: port)
        inbox = Inbox(try await watcher.subscribe(topics.all, qos: .atLeastOnce))
        publisherClient = try await connectedClient(port: port)
        service = try MeterService(
            settings: try MeterSettings(configuration), publisher: ReadingPublisher(client: publisherClient, topics: topics),
            clock: clock, source: source, supervisionInterval: .milliseconds(20), statsInterval: 5,
            logger: quietLogger())
        let service = self.service
        task = Task { try await service.run() }
    }

    var id: String { service.settings.id }

    /// The last state payload decoded, waiting for one that satisfies `predicate`.
    func state(timeout: Duration = .seconds(10), where predicate: @escaping ([Quantity: MeasuredValue]) -> Bool = { _ in true })
        async -> [Quantity: MeasuredValue]?
    {
        let m = await inbox.next(on: topics.meterState(id), timeout: timeout) { m in
            (try? ReadingPayload.decode(m.payload)).map { predicate($0.values) } ?? false
        }
        return m.flatMap { try? ReadingPayload.decode($0.payload).values }
    }

    /// The first statistics satisfying `predicate` published after the clock moved
    /// past the publication interval. Moves the clock again while none does (the
    /// gateway may still be handling what the test sent), for up to 10 s of real time.
    func statistics(where predicate: @escaping ([String: Any]) -> Bool) async -> [String: Any]? {
        let topic = topics.meterStats(id)
        let decode = { (m: MQTTMessage) in try? JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any] }
        for _ in 0..<20 {
            let before = inbox.on(topic).count
            clock.advance(by: 5)
            if let m = await inbox.next(on: topic, after: before, timeout: .milliseconds(500), where: { decode($0).map(predicate) ?? false }) {
                return decode(m)
            }
        }
        return nil
    }

    /// Waits until the source has opened its port: bytes written to a pty before
    /// that are flushed by the open, as stale bytes on a real line are.
    func waitUntilSourceOpen() async throws {
        for _ in 0..<1500 where !service.sourceIsOpen { try await Task.sleep(for: .milliseconds(10)) }
        try #require(service.sourceIsOpen, "source opened")
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        await publisherClient.shutdown()
        await watcher.shutdown()
    }
}

/// A P1 dongle or ser2net port on loopback: a TCP server streaming what the test
/// sends to whoever connects (the gateway's TCP source).
/// Its buffer holds a whole burst, so a gateway reading slower than the test sends is never dropped.
func makeDongle(port: Int = 0) throws -> FanOutServer {
    try FanOutServer(port: port, bindAddress: "127.0.0.1", perClientBufferBytes: 16 << 20, socketSendBufferBytes: 4 << 20)
}

/// Waits until the server accepted `count` clients: bytes sent before are lost.
func waitForClients(_ server: FanOutServer, count: Int = 1) async -> Bool {
    await eventually { server.statistics.connectedClients >= count }
}

/// Runs `body` with a socat pty pair and stops socat afterwards, also when the body throws.
func withPTYPair<T>(_ body: (SocatPTYPair) async throws -> T) async throws -> T {
    let pty = try await SocatPTYPair.start()
    do {
        let result = try await body(pty)
        await pty.stop()
        return result
    } catch {
        await pty.stop()
        throw error
    }
}

extension Dictionary where Key == Quantity, Value == MeasuredValue {
    func number(_ name: String) -> Double? { self[Quantity(name)]?.number }
}
