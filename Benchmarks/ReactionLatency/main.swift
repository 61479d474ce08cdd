// phasor-bench-reaction: reaction latency of the whole site, from the LAST BYTE of a
// P1 telegram written into a pty to the charger's new current limit arriving at a
// simulated charger over Modbus TCP. Real executables: phasor-gateway (P1 → MQTT,
// MQTT setpoint → Modbus write) and phasor-control (decides on every telegram),
// over the mosquitto on BROKER_PORT (start it with set_tcp_nodelay).
// Usage: phasor-bench-reaction BROKER_PORT TELEGRAM_FILE [COUNT] [GAP_MS]
// The house load alternates between two values, so every telegram moves both
// chargers' setpoints (15 A ↔ 7.5 A under a 32 A main connection).
// A pty has no baud rate: at 115200 Bd a telegram takes ~80 ms on the wire before
// its last byte; that is not counted here.
import DeviceSimulators
import Foundation
import Logging
import Modbus
import MQTT
import PhasorCore
import PhasorTesting

let args = CommandLine.arguments
guard args.count >= 3, let brokerPort = Int(args[1]) else {
    FileHandle.standardError.write(Data("usage: phasor-bench-reaction BROKER_PORT TELEGRAM_FILE [COUNT] [GAP_MS]\n".utf8))
    exit(2)
}
let meter = try SimulatedP1Meter(template: [UInt8](try Data(contentsOf: URL(fileURLWithPath: args[2]))))
let count = args.count > 3 ? Int(args[3]) ?? 300 : 300
let gap = Duration.milliseconds(args.count > 4 ? Int(args[4]) ?? 50 : 50)
let houseLoads: [[Double]] = [[2, 2, 2], [17, 2, 2]]

// Two chargers of different brands, a car on each.
let library = ProfileLibrary.load()
var simulators: [ModbusSimulator] = []
var points: [EndToEndSite.ChargePoint] = []
let writes = SetpointWrites()
for (index, (id, profileID)) in [("alfen", "alfen_eve"), ("abb", "abb_terra_ac")].enumerated() {
    guard let profile = library[profileID], let spec = profile.charger else { fatalError("profile \(profileID) missing") }
    let simulator = ModbusSimulator()
    try simulator.add(profile, unitID: 1)
    simulator.updateCharger(unitID: 1) { $0.vehicle = .init(phases: 3) }
    writes.observe(simulator, charger: index)
    points.append(.init(id: id, profile: profileID, port: try simulator.startTCP(), maxCurrent: 16, safeCurrent: spec.safeCurrent))
    simulators.append(simulator)
}

let pty = try await SocatPTYPair.start()
// The simulated cars follow at once: control is told so, and every telegram moves both chargers.
let site = EndToEndSite(
    site: "reaction\(getpid())", meterDevice: pty.second, mainLimit: 32, chargePoints: points, instantCars: true)
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-bench-reaction-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
let config = try site.write(into: folder)
let topics = TopicBuilder(site: site.site)

var logger = Logger(label: "bench")
logger.logLevel = .critical
let client = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: brokerPort, clientID: "bench-\(getpid())"),
                            logger: logger)
try await client.connect()
/// What the gateway last reported each charger draws: the meter sees it on top of the house.
let reported = Locked<[String: [Double]]>([:])
let controlOnline = Locked(false)
let stateSubscription = try await client.subscribe(topics.chargePointState("+"), qos: .atLeastOnce)
let statusSubscription = try await client.subscribe(topics.status(.control), qos: .atLeastOnce)
let listening = Task {
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            for await m in stateSubscription {
                guard let state = try? ChargePointStatePayload.decode(m.payload) else { continue }
                reported.withLock { $0[state.id] = state.currents.map { $0 ?? 0 } }
            }
        }
        group.addTask { for await m in statusSubscription { controlOnline.withLock { $0 = m.string == "online" } } }
    }
}

let common = ["--config", config, "--broker", "mqtt://127.0.0.1:\(brokerPort)", "--log-level", "warning"]
let gateway = try ChildProcess(BuiltExecutables.path("phasor-gateway"), common,
                               outputFile: folder.appendingPathComponent("gateway.log").path)
let control = try ChildProcess(BuiltExecutables.path("phasor-control"),
                               common + ["--state-dir", folder.appendingPathComponent("state").path],
                               outputFile: folder.appendingPathComponent("control.log").path)

@MainActor func shutDown() async {
    await control.terminate()
    await gateway.terminate()
    simulators.forEach { $0.stop() }
    await pty.stop()
    listening.cancel()
    await client.shutdown()
}

let line = try SerialLineWriter(path: pty.first)
var meterTime = Date()
/// Writes one telegram (house load plus the chargers' reported currents) and
/// returns when its last byte went out.
@MainActor func sendTelegram(house: [Double]) throws -> ContinuousClock.Instant {
    var currents = house
    for draws in reported.withLock({ Array($0.values) }) {
        for phase in 0..<min(3, draws.count) { currents[phase] += draws[phase] }
    }
    // One meter second per telegram: control ignores a reading that is not newer.
    meterTime += 1
    return try line.write(meter.telegram(time: meterTime, currents: currents))
}

// Warm up: until both chargers report and control is online, then a few rounds.
let startDeadline = ContinuousClock.now + .seconds(30)
while !(controlOnline.withLock { $0 } && reported.withLock { $0.count } == points.count) {
    guard ContinuousClock.now < startDeadline else {
        print("site did not start; logs in \(folder.path)")
        await shutDown()
        exit(1)
    }
    try await Task.sleep(for: .milliseconds(50))
}
for i in 0..<40 {
    _ = try sendTelegram(house: houseLoads[i % 2])
    try await Task.sleep(for: gap)
}

var first: [Duration] = []
var both: [Duration] = []
for i in 0..<count {
    let written = try sendTelegram(house: houseLoads[i % 2])
    let deadline = written + .seconds(1)
    var seen: [Int: SetpointWrites.Write] = [:]
    while seen.count < points.count, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(1))
        seen = writes.firstWrites(after: written)
    }
    if let earliest = seen.values.map(\.received).min() { first.append(written.duration(to: earliest)) }
    if seen.count == points.count, let latest = seen.values.map(\.received).max() { both.append(written.duration(to: latest)) }
    try await Task.sleep(for: gap)
}

func ms(_ d: Duration) -> String {
    String(format: "%.2f ms", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15)
}
func summary(_ label: String, _ values: [Duration]) {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return print("\(label): none") }
    func p(_ q: Double) -> Duration { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
    print("\(label): N \(sorted.count), p50 \(ms(p(0.5))), p90 \(ms(p(0.9))), p99 \(ms(p(0.99))), max \(ms(sorted.last!))")
}
print("\(count) telegrams \(Int(gap.components.seconds * 1000 + gap.components.attoseconds / 1_000_000_000_000_000)) ms apart, house load alternating L1 2 A ↔ 17 A, 2 chargers")
summary("last byte → first charger's new current limit at its simulator", first)
summary("last byte → both chargers' new current limits", both)
await shutDown()
try? FileManager.default.removeItem(at: folder)
exit(both.count == count ? 0 : 1)
