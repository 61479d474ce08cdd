import BridgeCore
import BridgeOutbox
import Foundation

// Outbox figures (issue 12): write rate per durability setting and batch size, and
// the replay read+acknowledge rate. Run: swift run -c release phasor-bench-outbox [messages]
// `--fill PATH MB`: only fill an outbox at PATH with MB megabytes of 1 KiB messages (the
// backlog scripts/bench.sh starts the real bridge on to read its RSS), then exit.
if let i = CommandLine.arguments.firstIndex(of: "--fill"), i + 2 < CommandLine.arguments.count,
    let megabytes = Int(CommandLine.arguments[i + 2])
{
    let outbox = try Outbox(settings: OutboxSettings(path: CommandLine.arguments[i + 1], maxBytes: 1 << 40))
    let kib = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
    let payload = Array(#"{"time":"2026-11-30T12:00:00Z","pad":""#.utf8) + kib + Array(#""}"#.utf8)
    for _ in 0..<(megabytes * 1024 / 256) {
        try outbox.append((0..<256).map { i in
            OutboxMessage(stream: "meter/m\(i % 8)/state", payload: payload, sourceTime: Date(), class: .energy)
        })
    }
    print("filled \(CommandLine.arguments[i + 1]): \(outbox.depth.messages) messages, \(outbox.depth.bytes / 1_048_576) MB of payload")
    exit(0)
}
let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 100_000 : 100_000
let payload = Array(#"{"device":"p1","time":"2026-11-30T12:00:00Z","power_import":1234.5,"power_export":0,"energy_import":12345.678,"voltage_l1":231.2,"current_l1":5.3}"#.utf8)
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-bench-outbox-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }

func message(_ i: Int) -> OutboxMessage {
    OutboxMessage(stream: "meter/m\(i % 8)/state", payload: payload, sourceTime: Date(), class: .instantaneous)
}

func measureWrites(_ durability: Durability, batch: Int, total: Int) throws -> Double {
    let path = folder.appendingPathComponent("w-\(durability.rawValue)-\(batch).sqlite").path
    let outbox = try Outbox(settings: OutboxSettings(path: path, maxBytes: 1 << 40, durability: durability))
    let start = ContinuousClock.now
    var i = 0
    while i < total {
        let n = min(batch, total - i)
        try outbox.append((i..<(i + n)).map(message))
        i += n
    }
    let elapsed = ContinuousClock.now - start
    return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

print("outbox write rate, \(payload.count)-byte payloads (messages/s):")
print("durability  batch  messages  rate")
for (durability, batch, n) in [(Durability.process, 1, min(count, 20_000)), (.process, 256, count),
                               (.power, 1, min(count, 1_000)), (.power, 256, count)] {
    let rate = try measureWrites(durability, batch: batch, total: n)
    print("\(durability.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))  \(String(batch).padding(toLength: 5, withPad: " ", startingAt: 0))  \(String(n).padding(toLength: 8, withPad: " ", startingAt: 0))  \(Int(rate))")
}

// Replay: read in pages of 500 oldest first and acknowledge each page (what the
// sender does after an outage, without the network).
for durability in [Durability.process, .power] {
    let path = folder.appendingPathComponent("replay-\(durability.rawValue).sqlite").path
    let outbox = try Outbox(settings: OutboxSettings(path: path, maxBytes: 1 << 40, durability: durability))
    var i = 0
    while i < count { try outbox.append((i..<min(count, i + 1000)).map(message)); i += 1000 }
    let start = ContinuousClock.now
    var cursor: Int64 = 0
    var replayed = 0
    while true {
        let page = try outbox.fetch(lane: nil, after: cursor, limit: 500)
        guard let last = page.last else { break }
        cursor = last.id
        replayed += page.count
        try outbox.acknowledge(page.map(\.id))
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("replay read+acknowledge (\(durability.rawValue)): \(replayed) messages, \(Int(Double(replayed) / seconds)) msg/s")
}
