import BridgeCloud
import BridgeCore
import BridgeOutbox
import CloudConsumer
import Foundation
import Logging
import MQTT
import PhasorTesting

// The fleet run (issue 12): N simulated site bridges (the real outbox and cloud link,
// in this process) → one mosquitto → K phasor-cloud-consumer processes (a shared
// subscription group) → PostgreSQL. With --kill-consumer one consumer is killed -9
// half-way and started again. Prints sites, msg/s, lag and loss; exits 1 on loss,
// a duplicate or a per-stream order that differs from the sequence numbers.
//
//   phasor-bench-fleet [--sites 100] [--rate 20] [--seconds 20] [--consumers 3] [--kill-consumer]
func option(_ name: String, _ fallback: Int) -> Int {
    let a = CommandLine.arguments
    guard let i = a.firstIndex(of: name), i + 1 < a.count, let v = Int(a[i + 1]) else { return fallback }
    return v
}
let sites = option("--sites", 100)
let rate = option("--rate", 20)
let seconds = option("--seconds", 20)
let consumers = option("--consumers", 3)
let killConsumer = CommandLine.arguments.contains("--kill-consumer")
var logger = Logger(label: "fleet")
logger.logLevel = .critical

func fail(_ message: String) -> Never {
    print("FAILED: \(message)")
    exit(1)
}

let broker = try await MosquittoBroker.start(options: .init(persistence: true))
let postgres = try await PostgresServer.start()
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-fleet-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
let store = try PostgresStore(conninfo: postgres.conninfo)

func startConsumer(_ i: Int) throws -> ChildProcess {
    try ChildProcess(BuiltExecutables.path("phasor-cloud-consumer"),
                     ["--broker", broker.url, "--postgres", postgres.conninfo, "--group", "fleet", "--client-id", "consumer-\(i)"],
                     outputFile: folder.appendingPathComponent("consumer-\(i).log").path)
}
var members = try (0..<consumers).map(startConsumer)
for i in 0..<consumers {
    let log = folder.appendingPathComponent("consumer-\(i).log").path
    guard await eventually(timeout: .seconds(30), { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("consuming") }) else {
        fail("consumer \(i) did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }
}

// N sites: each an outbox and the bridge's cloud link.
let streams = ["meter/main/state", "meter/main/energy_import"]
var outboxes: [Outbox] = []
var links: [Task<Void, Never>] = []
for s in 0..<sites {
    let outbox = try Outbox(settings: OutboxSettings(path: folder.appendingPathComponent("site\(s).sqlite").path, maxBytes: 1 << 30))
    outboxes.append(outbox)
    let mqtt = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "fleet-site-\(s)", cleanSession: false,
                                 sessionExpiryInterval: 3600, maxInflight: 100)
    let link = CloudLinkService(
        configuration: CloudLinkConfiguration(mqtt: mqtt, fallbackTo311: false, topics: CloudTopics(site: "site\(s)"), backlogRate: 10_000),
        outbox: outbox, commands: nil, logger: logger)
    links.append(Task { try? await link.run() })
}

// Each site produces `rate` messages a second for `seconds`, alternating its streams.
let total = sites * rate * seconds
let start = ContinuousClock.now
var produced = 0
var killed = false
for tick in 0..<(seconds * 10) {
    let now = Date()
    for (s, outbox) in outboxes.enumerated() {
        let batch = (0..<(rate / 10)).map { k -> OutboxMessage in
            let n = tick * (rate / 10) + k
            let stream = streams[n % 2]
            let payload = Array(#"{"device":"main","time":"\#(ISO8601DateFormatter().string(from: now))","n":\#(n),"site":\#(s)}"#.utf8)
            return OutboxMessage(stream: stream, payload: payload, sourceTime: now.addingTimeInterval(Double(k) / 1000),
                                 class: n % 2 == 0 ? .instantaneous : .energy)
        }
        try outbox.append(batch, now: now)
        produced += batch.count
    }
    if killConsumer && !killed && tick == seconds * 5 {
        members[0].signal(SIGKILL)
        _ = await members[0].waitForExit()
        members[0] = try startConsumer(0)
        killed = true
    }
    let next = start + .milliseconds(100 * (tick + 1))
    if ContinuousClock.now < next { try await Task.sleep(until: next) }
}
let produceTime = ContinuousClock.now - start
let drained = await eventually(timeout: .seconds(120)) {
    (try? store.query("SELECT count(*) FROM phasor_messages").first?.first.flatMap { Int($0) }) == produced
}
let elapsed = ContinuousClock.now - start
let stored = try store.query("SELECT count(*) FROM phasor_messages")[0][0]
let holes = try store.query("""
    SELECT count(*) FROM (SELECT site, stream, max(seq) AS top, count(*) AS n FROM phasor_messages GROUP BY site, stream) t WHERE top <> n
    """)[0][0]
let disorder = try store.query("""
    SELECT count(*) FROM (SELECT seq, lag(seq) OVER (PARTITION BY site, stream ORDER BY src_ts, seq) AS prev FROM phasor_messages) t
    WHERE prev IS NOT NULL AND seq <= prev
    """)[0][0]
let lag = try store.query("""
    SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - src_ts))::numeric * 1000),
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - src_ts))::numeric * 1000),
           round(max(extract(epoch FROM received_at - src_ts))::numeric * 1000)
    FROM phasor_messages
    """)[0]
let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let produceSecs = Double(produceTime.components.seconds) + Double(produceTime.components.attoseconds) / 1e18
print("fleet: \(sites) sites × \(rate) msg/s for \(seconds) s, \(consumers) consumers\(killConsumer ? " (one killed -9 and restarted half-way)" : "")")
print("  produced \(produced) in \(String(format: "%.1f", produceSecs)) s; stored in PostgreSQL \(stored) after \(String(format: "%.1f", secs)) s: \(Int(Double(produced) / secs)) msg/s end to end")
print("  consumer lag (PostgreSQL commit − source time): p50 \(lag[0]) ms, p99 \(lag[1]) ms, max \(lag[2]) ms")
let loss = produced - (Int(stored) ?? 0)
print("  loss \(loss), streams with holes \(holes), out-of-order rows \(disorder)")
for t in links { t.cancel() }
for t in links { await t.value }
for m in members { m.signal(SIGTERM); _ = await m.waitForExit() }
await broker.stop()
await postgres.stop()
try? FileManager.default.removeItem(at: folder)
guard drained, loss == 0, holes == "0", disorder == "0", total == produced else { fail("loss \(loss), holes \(holes), disorder \(disorder)") }
print("fleet: ok")
