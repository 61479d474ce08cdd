// Publish throughput of Phasor's MQTT client: N messages of S bytes at a QoS, timed
// from the first publish until libmosquitto reports every one complete (QoS 0:
// written to the socket; QoS 1/2: acknowledged by the broker). The C baseline in
// Benchmarks/MQTTThroughput/c_client.c measures the same way.
// Usage: phasor-bench-mqtt PORT COUNT QOS [SIZE]
import Foundation
import Logging
import MQTT

let args = CommandLine.arguments
guard args.count >= 4, let port = Int(args[1]), let count = Int(args[2]), let qosRaw = Int32(args[3]),
    let qos = QoS(rawValue: qosRaw)
else {
    print("usage: phasor-bench-mqtt PORT COUNT QOS [SIZE]")
    exit(2)
}
let size = args.count > 4 ? Int(args[4]) ?? 20 : 20
var logger = Logger(label: "bench")
logger.logLevel = .error
let client = try MQTTClient(
    configuration: MQTTConfiguration(
        host: "127.0.0.1", port: port, clientID: "bench-swift-\(getpid())", maxInflight: 20),
    logger: logger)
try await client.connect()
let payload = [UInt8](repeating: 0x61, count: size)
let message = MQTTMessage(topic: "bench/swift", payload: payload, qos: qos)
let before = client.statistics.acknowledged
let start = ContinuousClock.now
for _ in 0..<count { try client.publish(message) }
while client.statistics.acknowledged - before < UInt64(count) { try await Task.sleep(for: .microseconds(200)) }
let elapsed = ContinuousClock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(String(format: "swift qos=%d n=%d size=%d elapsed=%.3fs rate=%.0f msg/s", qos.rawValue, count, size, seconds, Double(count) / seconds))
await client.shutdown()
