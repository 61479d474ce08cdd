// Control's share of the reaction latency: a main-meter state published on a real
// mosquitto → control decides → the setpoints of all 20 charge points arrive at a
// subscriber (as the gateway would receive them). The full path (telegram's last
// byte → register written to a simulated charger) adds the gateway's parsing and
// its Modbus write; it is measured once the gateway drives chargers.
//
//   swift run -c release phasor-bench-control-latency [readings]
//
// Starts its own broker on a free loopback port. Prints figures; asserts nothing.
import Control
import ControlService
import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorTesting

let readings = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 1_000
let warmUp = 100
let points = 20

/// 20 three-phase points under a 400 A main connection: every reading changes
/// their share, so every decision carries new currents.
let model = try SiteModel(
    config: SiteConfig(
        preset: .hub, budget: BudgetConfig(sliderKW: 1000),
        site: PanelConfig(
            id: "main", currentLimit: PhaseLimit(400), meter: .device("grid"),
            chargePoints: (1...points).map { ChargePointConfig(id: "cp\($0)", maxCurrent: 32) })))

let logger: Logger = {
    var l = Logger(label: "bench")
    l.logLevel = .error
    return l
}()
// PhasorTesting's broker sets `set_tcp_nodelay true`, as a deployment must (docs/pitfalls.md).
let broker = try await MosquittoBroker.start(options: .init(persistence: false))
@MainActor func client(_ name: String) throws -> MQTTClient {
    try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "bench-\(name)"), logger: logger)
}
let topics = TopicBuilder(site: "bench")
let clock = ManualWallClock(Date(timeIntervalSince1970: 1_800_000_000))
let controlClient = try client("control")
try await controlClient.connect()
let service = ControlLoopService(
    client: controlClient, topics: topics, model: model, logger: logger, clock: clock,
    cycleInterval: .seconds(3600), startupDelay: .milliseconds(200), saveInterval: .seconds(3600))
let running = Task { try await service.run() }

let gateway = try client("gateway")
try await gateway.connect()
let setpoints = try await gateway.subscribe("\(topics.root)/chargepoint/+/setpoint", qos: .atLeastOnce)
for i in 1...points {
    let state = ChargePointStatePayload(
        id: "cp\(i)", time: clock.now(), online: true, status: .charging, currents: [10, 10, 10], maxCurrent: 32)
    try gateway.publish(MQTTMessage(topic: topics.chargePointState("cp\(i)"), payload: state.encode(), qos: .atLeastOnce, retain: true))
}
try await Task.sleep(for: .milliseconds(500))

/// Publishes `warmUp + readings` readings, 50 ms of virtual time apart (chargers stay
/// fresh for the whole run), and times each one to its first and its last setpoint.
@MainActor func measure() async throws -> (first: [Duration], last: [Duration]) {
    var incoming = setpoints.makeAsyncIterator()
    var firsts: [Duration] = []
    var lasts: [Duration] = []
    for n in 0..<(warmUp + readings) {
        clock.advance(by: 0.05)
        let time = clock.now()
        let house = n % 2 == 0 ? 40.0 : 120.0
        var reading = Reading(device: "grid", time: MeterTimestamp(date: time, utcOffsetSeconds: 0))
        for phase in 1...3 {
            reading.set(Quantity.current.phase(phase), house + Double(points) * 10)
            reading.set(Quantity.power.phase(phase), (house + Double(points) * 10) * 230)
        }
        let payload = ReadingPayload.encode(reading)
        let start = ContinuousClock.now
        try gateway.publish(MQTTMessage(topic: topics.meterState("grid"), payload: payload, qos: .atLeastOnce, retain: true))
        var first: Duration?
        var seen = 0
        while seen < points, let message = await incoming.next() {
            // Setpoint times travel with millisecond precision (truncated).
            guard let setpoint = try? SetpointPayload.decode(message.payload), let sent = setpoint.time,
                abs(sent.timeIntervalSince(time)) < 0.002
            else { continue }
            if first == nil { first = ContinuousClock.now - start }
            seen += 1
        }
        guard seen == points, let first else { throw CancellationError() }
        if n >= warmUp {
            firsts.append(first)
            lasts.append(ContinuousClock.now - start)
        }
    }
    return (firsts, lasts)
}

func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15 }
func summary(_ name: String, _ times: [Duration]) -> String {
    let sorted = times.sorted()
    func at(_ q: Double) -> Double { ms(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) }
    return String(format: "%@: p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms", name, at(0.5), at(0.9), at(0.99), ms(sorted.last!))
}
let (firsts, lasts) = try await measure()
print("phasor-bench-control-latency: \(readings) main-meter readings over loopback mosquitto, \(points) charge points")
print(summary("reading → first setpoint", firsts))
print(summary("reading → all \(points) setpoints", lasts))
running.cancel()
_ = try? await running.value
await gateway.shutdown()
await controlClient.shutdown()
await broker.stop()
