// Throughput of Phasor's MQTT client, measured the way the C baseline in
// Benchmarks/MQTTThroughput/c_client.c measures libmosquitto used directly.
//
// Publish: N messages of S bytes at a QoS, timed from the first publish until
// libmosquitto reports every one complete (QoS 0: written to the socket; QoS 1:
// acknowledged by the broker).
// Receive: a persistent session subscribes and goes away, N messages are queued for
// it at the broker, then the time from reconnecting until the subscriber's loop has
// taken all N from its subscription is measured (the path a service's consumer sees).
// Usage: phasor-bench-mqtt [receive] PORT COUNT QOS [SIZE]
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MQTT

var args = Array(CommandLine.arguments.dropFirst())
let receiveMode = args.first == "receive"
if receiveMode { args.removeFirst() }
guard args.count >= 3, let port = Int(args[0]), let count = Int(args[1]), let qosRaw = Int32(args[2]),
    let qos = QoS(rawValue: qosRaw)
else {
    print("usage: phasor-bench-mqtt [receive] PORT COUNT QOS [SIZE]")
    exit(2)
}
let size = args.count > 3 ? Int(args[3]) ?? 20 : 20
let logger: Logger = {
    var l = Logger(label: "bench")
    l.logLevel = .error
    return l
}()
let payload = [UInt8](repeating: 0x61, count: size)

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
/// CPU seconds of the whole process (every thread), user + system, as the C client counts.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec)
        + Double(u.ru_stime.tv_usec) / 1e6
}
func report(_ what: String, _ elapsed: Duration, cpu: Double) {
    let s = seconds(elapsed)
    let rate = (Double(count) / s).rounded()
    let ms = (s * 1000).rounded() / 1000
    let perMessage = (cpu * 1e8 / Double(count)).rounded() / 100
    print("swift \(what)qos=\(qos.rawValue) n=\(count) size=\(size) elapsed=\(ms)s rate=\(Int(rate)) msg/s cpu=\(perMessage)us/msg")
}

func publishThroughput() async throws {
    let client = try MQTTClient(
        configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "bench-swift-\(getpid())", maxInflight: 20),
        logger: logger)
    try await client.connect()
    let message = MQTTMessage(topic: "bench/swift", payload: payload, qos: qos)
    let before = client.statistics.acknowledged
    let start = ContinuousClock.now
    let cpuStart = cpuSeconds()
    for _ in 0..<count { try client.publish(message) }
    // Poll as the C baseline does (a blocking 200 µs nap, not a Task.sleep, whose
    // timer and executor hops compete with the broker for the two cores).
    while client.statistics.acknowledged - before < UInt64(count) { usleep(200) }
    report("", ContinuousClock.now - start, cpu: cpuSeconds() - cpuStart)
    // Untimed: one QoS 1 round trip, so the broker has read everything before the next
    // round starts (a QoS 0 burst sits in its socket buffer otherwise and slows
    // whichever client runs next).
    try await client.publishAndWait(MQTTMessage(topic: "bench/swift", payload: payload, qos: .atLeastOnce))
    await client.shutdown()
}

func receiveThroughput() async throws {
    let id = "bench-sub-swift-\(getpid())"
    let topic = "bench/recv/\(id)"
    let persistent = MQTTConfiguration(
        host: "127.0.0.1", port: port, clientID: id, cleanSession: false, sessionExpiryInterval: 3600, maxInflight: 20)
    // A persistent session subscribes, then goes away.
    let first = try MQTTClient(configuration: persistent, logger: logger)
    try await first.connect()
    let subscription = try await first.subscribe(topic, qos: qos)
    await first.shutdown()
    _ = subscription
    // N messages are queued for it at the broker.
    let feeder = try MQTTClient(
        configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "bench-feed-swift-\(getpid())", maxInflight: 20),
        logger: logger)
    try await feeder.connect()
    // In batches: 100 000 QoS 1 publishes handed over at once made mosquitto 2.0.11
    // drop the feeder ("disconnected due to out of memory").
    for batch in stride(from: 0, to: count, by: 1000) {
        for _ in batch..<min(count, batch + 1000) {
            try feeder.publish(MQTTMessage(topic: topic, payload: payload, qos: .atLeastOnce))
        }
        guard await feeder.flush(timeout: .seconds(60)) else { fatalError("the feeder's messages were not acknowledged") }
    }
    await feeder.shutdown()
    // It comes back (subscribed locally before connecting: the broker kept the
    // broker-side subscription) and takes them all.
    let second = try MQTTClient(configuration: persistent, logger: logger)
    let messages = try await second.subscribe(topic, qos: qos)
    let start = ContinuousClock.now
    let cpuStart = cpuSeconds()
    try await second.connect()
    var received = 0
    for await _ in messages {
        received += 1
        if received == count { break }
    }
    report("receive ", ContinuousClock.now - start, cpu: cpuSeconds() - cpuStart)
    await second.shutdown()
    // End the session at the broker so it keeps nothing.
    let cleaner = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: id), logger: logger)
    try await cleaner.connect()
    await cleaner.shutdown()
}

if receiveMode { try await receiveThroughput() } else { try await publishThroughput() }
