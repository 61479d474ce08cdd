// phasor-bench-latency: latency from the last byte of a P1 telegram written into a
// pseudo-terminal to its JSON state at an MQTT subscriber, through the gateway's
// real path (serial source with termios → framer → parser → publish → mosquitto).
// Usage: phasor-bench-latency BROKER_PORT TELEGRAM_FILE [COUNT] [GAP_MS]
// Each telegram carries its sequence number as power_import (CRC recomputed), so
// every message at the subscriber is matched to the write it came from.
// A pty has no baud rate: on a real 115200 Bd line the telegram itself takes
// ~70 ms to transmit before its last byte arrives; that is not counted here.
import DeviceSimulators
import Foundation
import Gateway
import Logging
import MQTT
import Modbus
import PhasorCore
import PhasorTesting

#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
guard args.count >= 3, let brokerPort = Int(args[1]) else {
    FileHandle.standardError.write(Data("usage: phasor-bench-latency BROKER_PORT TELEGRAM_FILE [COUNT] [GAP_MS]\n".utf8))
    exit(2)
}
let telegram = [UInt8](try Data(contentsOf: URL(fileURLWithPath: args[2])))
let count = args.count > 3 ? Int(args[3]) ?? 1000 : 1000
let gapMilliseconds = args.count > 4 ? Int(args[4]) ?? 20 : 20
let gap = Duration.milliseconds(gapMilliseconds)
let logger: Logger = {
    var l = Logger(label: "bench")
    l.logLevel = .critical
    return l
}()

func client(_ name: String) throws -> MQTTClient {
    try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: brokerPort, clientID: "bench-\(name)-\(getpid())"),
                   logger: logger)
}

/// The kW text of 1-0:1.7.0 that encodes `i` W (the register has three decimals).
func powerText(_ i: Int) -> String {
    let kW = String(format: "%06.3f", Double(i) / 1000)
    return "1-0:1.7.0(\(kW)*kW)"
}

let pty = try await SocatPTYPair.start()
let topics = TopicBuilder(prefix: "bench", site: "latency\(getpid())")
let publisherClient = try client("gw")
try await publisherClient.connect()
let subscriber = try client("sub")
try await subscriber.connect()
let received = Locked<[Int: ContinuousClock.Instant]>([:])
let subscription = try await subscriber.subscribe(topics.meterState("p1"), qos: .atLeastOnce)
let receiving = Task {
    for await message in subscription {
        let now = ContinuousClock.now
        guard let values = try? ReadingPayload.decode(message.payload).values,
              let power = values[Quantity("power_import")]?.number else { continue }
        received.withLock { $0[Int(power)] = now }
    }
}
let service = try MeterService(
    settings: try MeterSettings(MeterConfiguration(id: "p1", type: .p1, source: pty.second)),
    publisher: ReadingPublisher(client: publisherClient, topics: topics), logger: logger)
let running = Task { try await service.run() }
while !service.sourceIsOpen { try await Task.sleep(for: .milliseconds(10)) }

let fd = open(pty.first, O_RDWR | O_NOCTTY)
var written: [Int: ContinuousClock.Instant] = [:]
for i in 1...count {
    let bytes = P1TelegramEditing.replacing("1-0:1.7.0(00.433*kW)", with: powerText(i), in: telegram)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { fatalError("write to pty: \(String(cString: strerror(errno)))") }
        offset += n
    }
    written[i] = ContinuousClock.now
    try await Task.sleep(for: gap)
}
let deadline = ContinuousClock.now + .seconds(10)
while received.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
    try await Task.sleep(for: .milliseconds(20))
}

let arrivals = received.withLock { $0 }
let latencies = written.compactMap { i, w in arrivals[i].map { w.duration(to: $0) } }.sorted()
func ms(_ d: Duration) -> String {
    String(format: "%.3f ms", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15)
}
func percentile(_ p: Double) -> Duration { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
print("telegram \(telegram.count) bytes, \(count) written \(gapMilliseconds) ms apart, \(latencies.count) received at the subscriber")
if !latencies.isEmpty {
    print("pty last byte → JSON state at subscriber: p50 \(ms(percentile(0.5))), p90 \(ms(percentile(0.9))), p99 \(ms(percentile(0.99))), max \(ms(latencies.last!))")
}
close(fd)
running.cancel()
_ = try? await running.value
receiving.cancel()
await publisherClient.shutdown()
await subscriber.shutdown()
await pty.stop()
exit(latencies.count == count ? 0 : 1)
