import BridgeCore
import BridgeOutbox
import Foundation
import GRDB
import PhasorCore
import Testing

func temporaryOutboxPath(_ name: String = #function) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-outbox-\(UUID().uuidString.prefix(8))")
    return dir.appendingPathComponent("outbox.sqlite").path
}

func reading(_ n: Int, time: Date = Date(timeIntervalSince1970: 1_800_000_000)) -> [UInt8] {
    Array(#"{"device":"m1","time":"\#(ISO8601Text.format(time))","n":\#(n),"power_import":1200}"#.utf8)
}

enum ISO8601Text {
    static func format(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: d)
    }
}

@Suite("Outbox") struct OutboxTests {
    /// The intake and the command relay append from different threads while the cloud
    /// link acknowledges: every stream's numbers stay 1…n without a repeat (the cloud
    /// deduplicates on (site, stream, seq): a repeated seq is a lost message), and the
    /// depth matches the rows.
    @Test func concurrentAppendsAndAcknowledgementsNeverRepeatASequenceNumber() async throws {
        let outbox = try Outbox(settings: OutboxSettings(path: temporaryOutboxPath(), maxBytes: 1 << 30))
        let perStream = 300
        let streams = ["meter/m1/state", "command/result", "event/e"]
        let acknowledged = Locked<[OutboxRecord]>([])
        await withTaskGroup(of: Void.self) { group in
            for stream in streams {
                group.addTask {
                    for n in 1...perStream {
                        _ = try? outbox.append(OutboxMessage(stream: stream, payload: reading(n), sourceTime: Date(), class: .event))
                        await Task.yield()
                    }
                }
            }
            group.addTask {
                var after: Int64 = 0
                for _ in 0..<200 {
                    let rows = (try? outbox.fetch(lane: nil, after: after, limit: 7)) ?? []
                    try? outbox.acknowledge(rows.map(\.id))
                    after = rows.last?.id ?? after
                    acknowledged.withLock { $0 += rows }
                    await Task.yield()
                }
            }
        }
        let rows = acknowledged.withLock { $0 } + (try outbox.fetch(lane: nil, after: 0, limit: 10_000))
        for stream in streams {
            let seqs = rows.filter { $0.stream == stream }.map(\.seq).sorted()
            let repeated = seqs.count - Set(seqs).count
            #expect(seqs == Array(1...Int64(perStream)), "\(stream): \(seqs.count) rows, \(repeated) numbers repeated")
            #expect(outbox.lastSeq(of: stream) == Int64(perStream))
        }
        let waiting = try outbox.fetch(lane: nil, after: 0, limit: 10_000)
        #expect(outbox.depth.messages == waiting.count)
        #expect(outbox.depth.bytes == waiting.reduce(0) { $0 + $1.payload.count })
    }

    @Test func sequenceNumbersNeverRepeatAfterEmptyingAndReopening() throws {
        let path = temporaryOutboxPath()
        do {
            let outbox = try Outbox(settings: OutboxSettings(path: path, maxBytes: 1 << 30))
            try outbox.append((1...3).map { OutboxMessage(stream: "meter/m1/state", payload: reading($0), sourceTime: Date(), class: .instantaneous) })
            try outbox.append(OutboxMessage(stream: "alert/x", payload: Array("{}".utf8), sourceTime: Date(), class: .alert))
            let rows = try outbox.fetch(lane: nil, after: 0, limit: 100)
            #expect(rows.filter { $0.stream == "meter/m1/state" }.map(\.seq) == [1, 2, 3])
            #expect(rows.first { $0.stream == "alert/x" }?.seq == 1)
            #expect(rows.first { $0.stream == "alert/x" }?.lane == .priority)
            try outbox.acknowledge(rows.map(\.id))
            #expect(outbox.depth.messages == 0)
            #expect(outbox.depth.bytes == 0)
        }
        // Empty, closed and opened again: numbering goes on, ids are not reused.
        let reopened = try Outbox(settings: OutboxSettings(path: path, maxBytes: 1 << 30))
        try reopened.append(OutboxMessage(stream: "meter/m1/state", payload: reading(4), sourceTime: Date(), class: .instantaneous))
        let row = try #require(try reopened.fetch(lane: .live, after: 0, limit: 10).first)
        #expect(row.seq == 4)
        #expect(row.id == 5)
        #expect(try reopened.lastID() == 5)
    }

    @Test func aRedeliveredMessageIsNotStoredTwice() throws {
        let outbox = try Outbox(settings: OutboxSettings(path: temporaryOutboxPath(), maxBytes: 1 << 30))
        let payload = reading(1)
        let key = OutboxMessage.key(topic: "phasor/s/meter/m1/state", payload: payload)
        let m = OutboxMessage(stream: "meter/m1/state", payload: payload, sourceTime: Date(), class: .instantaneous, redeliveryKey: key)
        #expect(try outbox.append([m]).stored == 1)
        let again = try outbox.append([m, OutboxMessage(stream: "meter/m1/state", payload: reading(2), sourceTime: Date(), class: .instantaneous,
                                                       redeliveryKey: OutboxMessage.key(topic: "phasor/s/meter/m1/state", payload: reading(2)))])
        #expect(again.stored == 1)
        #expect(again.redelivered == 1)
        #expect(try outbox.fetch(lane: nil, after: 0, limit: 10).map(\.seq) == [1, 2])
    }

    @Test func overTheBoundInstantaneousValuesAreThinnedAndEverythingElseIsKept() throws {
        let bound = 20_000
        let outbox = try Outbox(settings: OutboxSettings(path: temporaryOutboxPath(), maxBytes: bound))
        var energy = 0, events = 0, instantaneous = 0
        for i in 1...600 {
            try outbox.append(OutboxMessage(stream: "meter/m1/state", payload: reading(i), sourceTime: Date(), class: .instantaneous))
            instantaneous += 1
            if i % 10 == 0 {
                try outbox.append(OutboxMessage(stream: "meter/m1/energy_import", payload: Array("\(i)".utf8), sourceTime: Date(), class: .energy))
                energy += 1
            }
            if i % 50 == 0 {
                try outbox.append(OutboxMessage(stream: "event/x", payload: Array("{\"n\":\(i)}".utf8), sourceTime: Date(), class: .event))
                events += 1
            }
        }
        let rows = try outbox.fetch(lane: nil, after: 0, limit: 100_000)
        // Energy registers and events complete, in order.
        #expect(rows.filter { $0.messageClass == .energy }.map(\.seq) == Array(1...Int64(energy)))
        #expect(rows.filter { $0.messageClass == .event }.map(\.seq) == Array(1...Int64(events)))
        // Instantaneous thinned, never to nothing; the newest kept.
        let kept = rows.filter { $0.messageClass == .instantaneous }
        #expect(kept.count < instantaneous)
        #expect(kept.last?.seq == Int64(instantaneous))
        #expect(outbox.depth.bytes <= bound)
        // Every drop accounted for in gap records, which are themselves queued (priority lane).
        let gaps = rows.filter { $0.stream == CloudTopics.gapStream }
        #expect(!gaps.isEmpty)
        #expect(gaps.allSatisfy { $0.lane == .priority && $0.messageClass == .gap })
        let dropped = gaps.compactMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] }
            .map { $0["dropped"] as? Int ?? 0 }.reduce(0, +)
        #expect(dropped + kept.count == instantaneous)
        #expect(gaps.map(\.seq) == Array(1...Int64(gaps.count)))
    }

    @Test func thinningKeepsOneStatePerStreamAndQuarterHourSoEnergyStaysExact() throws {
        let outbox = try Outbox(settings: OutboxSettings(path: temporaryOutboxPath(), maxBytes: 12_000))
        let start = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 900))
        // Two hours of states every 20 s: 360 messages, about 36 kB, three times the bound.
        for i in 0..<360 {
            let t = start.addingTimeInterval(Double(i) * 20)
            try outbox.append(OutboxMessage(stream: "meter/m1/state", payload: reading(i, time: t), sourceTime: t, class: .instantaneous))
        }
        let kept = try outbox.fetch(lane: .live, after: 0, limit: 10_000)
        #expect(kept.count < 360)
        let quarters = Set(kept.map { Int($0.sourceTime.timeIntervalSince1970 / 900) })
        #expect(quarters.count == 8, "every quarter-hour of the two hours keeps a state")
        // The one kept is the quarter-hour's last: its registers close the quarter.
        for q in quarters {
            let last = start.addingTimeInterval(Double((q * 900 + 880) - Int(start.timeIntervalSince1970)))
            #expect(kept.contains { abs($0.sourceTime.timeIntervalSince(last)) < 1 })
        }
    }

    @Test func aFullDiskRefusesTheBatchWholeAndLeavesTheFileIntact() throws {
        let path = temporaryOutboxPath()
        // 60 pages of 4 KiB stand for a full disk.
        let outbox = try Outbox(settings: OutboxSettings(path: path, maxBytes: 1 << 30, pageLimit: 60))
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: 3000)
        var stored = 0
        var refusal: OutboxError?
        for i in 0..<200 {
            do {
                try outbox.append([OutboxMessage(stream: "event/e", payload: big + Array("\(i)".utf8), sourceTime: Date(), class: .event),
                                   OutboxMessage(stream: "event/e", payload: big, sourceTime: Date(), class: .event)])
                stored += 2
            } catch {
                refusal = error
                break
            }
        }
        guard case .full = try #require(refusal) else {
            Issue.record("expected .full, got \(String(describing: refusal))")
            return
        }
        // Nothing of the refused batch is half-stored; what was stored is intact.
        #expect(try outbox.fetch(lane: nil, after: 0, limit: 1000).count == stored)
        #expect(outbox.depth.messages == stored)
        let check = try DatabaseQueue(path: path).read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        #expect(check == "ok")
        // Space again (acknowledged rows): storing works again, numbering goes on.
        try outbox.acknowledge(try outbox.fetch(lane: nil, after: 0, limit: 1000).map(\.id))
        try outbox.append(OutboxMessage(stream: "event/e", payload: Array("after".utf8), sourceTime: Date(), class: .event))
        #expect(try outbox.fetch(lane: nil, after: 0, limit: 10).first?.seq == Int64(stored + 1))
    }

    @Test func deadLettersLeaveTheQueueWithTheirReason() throws {
        let outbox = try Outbox(settings: OutboxSettings(path: temporaryOutboxPath(), maxBytes: 1 << 30))
        try outbox.append(OutboxMessage(stream: "event/e", payload: Array("1".utf8), sourceTime: Date(), class: .event))
        let row = try #require(try outbox.fetch(lane: nil, after: 0, limit: 1).first)
        try outbox.deadLetter(row.id, reason: "broker refused: not authorized")
        #expect(outbox.depth.messages == 0)
        let letters = try outbox.deadLetters()
        #expect(letters.count == 1)
        #expect(letters.first?.reason.contains("not authorized") == true)
    }

    @Test func aCommandIdIsTakenOnce() throws {
        let outbox = try Outbox(settings: OutboxSettings(path: temporaryOutboxPath(), maxBytes: 1 << 30))
        #expect(try outbox.commandSeen("c1") == false)
        #expect(try outbox.commandSeen("c1") == true)
        #expect(try outbox.commandSeen("c2") == false)
    }
}
