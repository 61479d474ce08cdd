import BridgeCore
import Foundation
import GRDB
import PhasorCore

/// A message handed to the outbox.
public struct OutboxMessage: Sendable, Hashable {
    /// The stream: for forwarded messages the local topic below `<prefix>/<site>/`.
    public var stream: String
    public var payload: [UInt8]
    /// When the value was measured or the event happened (the payload's own time).
    public var sourceTime: Date
    public var messageClass: MessageClass
    public var lane: Lane
    /// Set by the intake: a message whose key was stored recently is a redelivery and
    /// is not stored again (`Outbox.recentKeys`).
    public var redeliveryKey: Int64?
    /// `false`: no row is stored; only the redelivery key is remembered and the message
    /// is handed to `append`'s `derive` (a reading that feeds an aggregate only).
    public var storesRow: Bool

    public init(stream: String, payload: [UInt8], sourceTime: Date, class messageClass: MessageClass, lane: Lane? = nil,
                redeliveryKey: Int64? = nil, storesRow: Bool = true) {
        self.stream = stream
        self.payload = payload
        self.sourceTime = sourceTime
        self.messageClass = messageClass
        self.lane = lane ?? messageClass.defaultLane
        self.redeliveryKey = redeliveryKey
        self.storesRow = storesRow
    }

    /// FNV-1a over topic and payload: the intake's redelivery key.
    public static func key(topic: String, payload: [UInt8]) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in topic.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h = (h ^ 0xFF) &* 0x100_0000_01b3
        for b in payload { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int64(bitPattern: h)
    }
}

/// A stored message, as the sender reads it.
public struct OutboxRecord: Sendable, Hashable {
    /// Order of arrival; never reused.
    public var id: Int64
    public var stream: String
    /// Per stream, from 1, never reused (also after the outbox empties or restarts).
    public var seq: Int64
    public var sourceTime: Date
    public var enqueued: Date
    public var messageClass: MessageClass
    public var lane: Lane
    public var payload: [UInt8]
}

public enum OutboxError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The disk (or the configured page limit) is full: nothing of the batch was stored.
    case full(String)
    case storage(String)

    public var description: String {
        switch self {
        case .full(let m): "outbox full: \(m)"
        case .storage(let m): "outbox storage error: \(m)"
        }
    }
}

public struct OutboxSettings: Sendable {
    public var path: String
    /// Bound on the queued payload bytes; over it instantaneous messages are thinned.
    public var maxBytes: Int
    public var durability: Durability
    /// Tests: a page limit (SQLite `max_page_count`) that stands for a full disk.
    public var pageLimit: Int?

    public init(path: String, maxBytes: Int, durability: Durability = .process, pageLimit: Int? = nil) {
        self.path = path
        self.maxBytes = maxBytes
        self.durability = durability
        self.pageLimit = pageLimit
    }

    /// `section`'s values, or `share` of the free space of the outbox's folder.
    public static func from(_ section: OutboxSection?) -> OutboxSettings {
        let path = section?.path ?? "/var/lib/phasor/outbox.sqlite"
        let folder = (path as NSString).deletingLastPathComponent
        let free = (try? FileManager.default.attributesOfFileSystem(forPath: folder.isEmpty ? "." : folder))?[.systemFreeSize]
            as? NSNumber
        let share = section?.maxDiskShare ?? 0.1
        let bound = section?.maxBytes ?? max(1 << 20, Int(Double(free?.int64Value ?? (1 << 30)) * share))
        return OutboxSettings(path: path, maxBytes: bound, durability: section?.durability ?? .process)
    }
}

/// What one `append` did.
public struct AppendOutcome: Sendable, Hashable {
    public var stored = 0
    /// Redeliveries recognised and skipped.
    public var redelivered = 0
    /// Instantaneous messages deleted to stay under the bound (each counted in a gap record).
    public var thinned = 0
    /// Protected messages alone exceed the bound (nothing more can be thinned).
    public var overBound = false
}

/// The bridge's disk outbox: SQLite through GRDB in WAL mode. Every forwarded message
/// is written here before it is sent; a message leaves only when the cloud broker
/// acknowledged it (or refused it: dead letter).
///
/// Durability: `.process` (WAL, `synchronous=NORMAL`) survives kill -9 of the bridge
/// at any moment; `.power` (`synchronous=FULL`) also survives power loss. A batch
/// given to `append` is one transaction (group commit: one fsync for the batch).
///
/// Sequence numbers: each stream's counter lives in its own table and is advanced in
/// the same transaction as the rows, so numbers never repeat, also after the outbox
/// empties or the process restarts. Row ids use AUTOINCREMENT for the same reason.
public final class Outbox: Sendable {
    /// How many recent redelivery keys are kept (the broker redelivers at most what was
    /// in flight, far fewer).
    public static let recentKeys = 10_000

    public let settings: OutboxSettings
    let db: DatabaseQueue
    let state: Locked<State>
    let listeners = Locked<[UUID: AsyncStream<Void>.Continuation]>([:])
    let waiters = Locked<(generation: UInt64, list: [UUID: CheckedContinuation<Void, Never>])>((0, [:]))

    struct State {
        var lastSeq: [String: Int64] = [:]
        var totalBytes = 0
        var count = 0
        var recent: Set<Int64> = []
        var recentOrder: [Int64] = []
    }

    public init(settings: OutboxSettings) throws {
        self.settings = settings
        var config = Configuration()
        let durability = settings.durability
        let pageLimit = settings.pageLimit
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(durability == .power ? "FULL" : "NORMAL")")
            if let pageLimit { try db.execute(sql: "PRAGMA max_page_count = \(pageLimit)") }
        }
        let folder = (settings.path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        db = try DatabaseQueue(path: settings.path, configuration: config)
        try db.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS outbox(
                    id INTEGER PRIMARY KEY AUTOINCREMENT, lane INTEGER NOT NULL, class TEXT NOT NULL,
                    stream TEXT NOT NULL, seq INTEGER NOT NULL, src_ts REAL NOT NULL, enq_ts REAL NOT NULL,
                    payload BLOB NOT NULL, bytes INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS outbox_lane ON outbox(lane, id);
                CREATE INDEX IF NOT EXISTS outbox_class ON outbox(class, id);
                CREATE TABLE IF NOT EXISTS streams(stream TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS recent(n INTEGER PRIMARY KEY AUTOINCREMENT, key INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS dead_letter(
                    id INTEGER PRIMARY KEY, class TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
                    src_ts REAL NOT NULL, payload BLOB NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS commands_seen(id TEXT PRIMARY KEY, at REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS sidecar(key TEXT PRIMARY KEY, value BLOB NOT NULL);
                """)
        }
        var s = State()
        try db.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT stream, last_seq FROM streams") {
                s.lastSeq[row[0]] = row[1]
            }
            let totals = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM outbox")
            s.count = totals?[0] ?? 0
            s.totalBytes = totals?[1] ?? 0
            s.recentOrder = try Int64.fetchAll(db, sql: "SELECT key FROM recent ORDER BY n")
            s.recent = Set(s.recentOrder)
        }
        state = Locked(s)
    }

    // MARK: Writing

    /// Stores `message` (its own transaction). The one-line call for other modules:
    /// `try outbox.append(OutboxMessage(stream: "alert/x", payload: json, sourceTime: now, class: .alert))`.
    @discardableResult
    public func append(_ message: OutboxMessage, now: Date = Date()) throws(OutboxError) -> AppendOutcome {
        try append([message], now: now)
    }

    /// What `append` stores besides the messages, computed inside its transaction from the
    /// messages that are not redeliveries: more messages (aggregates) and a state saved
    /// under a key (`sidecar(_:)` reads it back), committed or rolled back with the rest.
    public typealias Derive = ([OutboxMessage]) throws -> (messages: [OutboxMessage], sidecar: (key: String, value: [UInt8])?)

    /// Stores `messages` in one transaction (all or nothing), numbers them per stream,
    /// skips redeliveries, and thins instantaneous messages when over the byte bound.
    @discardableResult
    public func append(_ messages: [OutboxMessage], now: Date = Date(), derive: Derive? = nil) throws(OutboxError) -> AppendOutcome {
        guard !messages.isEmpty else { return AppendOutcome() }
        var outcome = AppendOutcome()
        do {
            // The state is read and written back inside the database queue's exclusive
            // access, so two appends (the intake's and the command relay's) never number
            // from the same snapshot: a repeated seq would be dropped by the cloud's
            // dedup. Counts and bytes go back as deltas: `acknowledge` changes them
            // concurrently.
            try db.writeWithoutTransaction { db in
                var s = state.withLock { $0 }
                let before = (count: s.count, bytes: s.totalBytes)
                try db.inTransaction {
                    outcome = try write(messages, db, state: &s, now: now, derive: derive)
                    return .commit
                }
                let committed = s
                state.withLock {
                    $0.lastSeq = committed.lastSeq
                    $0.recent = committed.recent
                    $0.recentOrder = committed.recentOrder
                    $0.count += committed.count - before.count
                    $0.totalBytes += committed.totalBytes - before.bytes
                }
            }
        } catch {
            throw Self.classify(error)
        }
        if outcome.stored > 0 { notify() }
        return outcome
    }

    /// One append's rows, in the caller's transaction; `s` is updated as the rows are.
    private func write(_ messages: [OutboxMessage], _ db: Database, state s: inout State, now: Date, derive: Derive?) throws
        -> AppendOutcome
    {
        var outcome = AppendOutcome()
        let insert = try db.cachedStatement(sql: """
            INSERT INTO outbox(lane, class, stream, seq, src_ts, enq_ts, payload, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let remember = try db.cachedStatement(sql: "INSERT INTO recent(key) VALUES (?)")
        var touched: Set<String> = []
        var fresh: [OutboxMessage] = []
        for m in messages {
            if let key = m.redeliveryKey {
                if s.recent.contains(key) {
                    outcome.redelivered += 1
                    continue
                }
                s.recent.insert(key)
                s.recentOrder.append(key)
                try remember.execute(arguments: [key])
            }
            fresh.append(m)
        }
        var rows = fresh.filter(\.storesRow)
        if let derive {
            let (derived, sidecar) = try derive(fresh)
            rows += derived
            if let sidecar {
                try db.execute(sql: "INSERT OR REPLACE INTO sidecar(key, value) VALUES (?, ?)", arguments: [sidecar.key, Data(sidecar.value)])
            }
        }
        for m in rows {
            try Self.insert(m, statement: insert, state: &s, now: now)
            touched.insert(m.stream)
            outcome.stored += 1
        }
        if s.totalBytes > settings.maxBytes {
            let (thinned, gaps) = try thin(db, state: &s, now: now)
            outcome.thinned = thinned
            for gap in gaps {
                try Self.insert(gap, statement: insert, state: &s, now: now)
                touched.insert(gap.stream)
            }
            outcome.overBound = s.totalBytes > settings.maxBytes
        }
        let counter = try db.cachedStatement(sql: "INSERT OR REPLACE INTO streams(stream, last_seq) VALUES (?, ?)")
        for stream in touched { try counter.execute(arguments: [stream, s.lastSeq[stream] ?? 0]) }
        if s.recentOrder.count > Self.recentKeys + 1000 {
            let drop = s.recentOrder.count - Self.recentKeys
            for k in s.recentOrder.prefix(drop) { s.recent.remove(k) }
            s.recentOrder.removeFirst(drop)
            try db.execute(sql: "DELETE FROM recent WHERE n <= (SELECT MAX(n) FROM recent) - ?", arguments: [Self.recentKeys])
        }
        return outcome
    }

    private static func insert(_ m: OutboxMessage, statement: Statement, state s: inout State, now: Date) throws {
        let seq = (s.lastSeq[m.stream] ?? 0) + 1
        s.lastSeq[m.stream] = seq
        try statement.execute(arguments: [
            m.lane.rawValue, m.messageClass.rawValue, m.stream, seq, m.sourceTime.timeIntervalSince1970,
            now.timeIntervalSince1970, Data(m.payload), m.payload.count,
        ])
        s.totalBytes += m.payload.count
        s.count += 1
    }

    /// Deletes every second one of the oldest instantaneous messages until the queued
    /// bytes are 10 % under the bound (repeated passes thin the oldest most), and
    /// returns one gap record per stream thinned. The last message of each stream in
    /// each quarter-hour (by source time) is kept: a meter's state carries its energy
    /// registers, so energy stays exact per quarter-hour however much is thinned.
    private func thin(_ db: Database, state s: inout State, now: Date) throws -> (Int, [OutboxMessage]) {
        let target = settings.maxBytes - settings.maxBytes / 10
        var dropped: [String: (from: Int64, to: Int64, count: Int)] = [:]
        var total = 0
        var after: Int64 = 0
        var deletedThisSweep = 0
        while s.totalBytes > target {
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, stream, seq, bytes, src_ts FROM outbox WHERE class = ? AND id > ? ORDER BY id LIMIT 4096",
                arguments: [MessageClass.instantaneous.rawValue, after])
            guard let last = rows.last else {
                // A whole sweep that freed nothing: only quarter-hour keepers are left.
                if deletedThisSweep == 0 { break }
                after = 0
                deletedThisSweep = 0
                continue
            }
            after = last[0]
            var keepers: [String: Int64] = [:]
            for row in rows {
                let key = "\(row[1] as String)|\(Int((row[4] as Double) / 900))"
                keepers[key] = max(keepers[key] ?? 0, row[0] as Int64)
            }
            let keep = Set(keepers.values)
            var victims: [Int64] = []
            var index = 0
            for row in rows where s.totalBytes > target {
                let id: Int64 = row[0]
                guard !keep.contains(id) else { continue }
                defer { index += 1 }
                guard index % 2 == 0 else { continue }
                let stream: String = row[1]
                let seq: Int64 = row[2]
                let bytes: Int = row[3]
                victims.append(id)
                s.totalBytes -= bytes
                s.count -= 1
                var d = dropped[stream] ?? (seq, seq, 0)
                d.from = min(d.from, seq)
                d.to = max(d.to, seq)
                d.count += 1
                dropped[stream] = d
            }
            guard !victims.isEmpty else { continue }
            total += victims.count
            deletedThisSweep += victims.count
            try db.execute(sql: "DELETE FROM outbox WHERE id IN (\(victims.map(String.init).joined(separator: ",")))")
        }
        let gaps = dropped.keys.sorted().map { stream -> OutboxMessage in
            let d = dropped[stream]!
            var w = JSONWriter()
            w.beginObject()
            w.key("stream"); w.value(stream)
            w.key("from_seq"); w.value(Int(d.from))
            w.key("to_seq"); w.value(Int(d.to))
            w.key("dropped"); w.value(d.count)
            w.key("reason"); w.value("thinned: the outbox was over its byte bound (\(settings.maxBytes) bytes)")
            w.key("time"); w.value(ISO8601.format(now, utcOffsetSeconds: 0))
            w.endObject()
            return OutboxMessage(stream: CloudTopics.gapStream, payload: w.bytes, sourceTime: now, class: .gap)
        }
        return (total, gaps)
    }

    static func classify(_ error: any Error) -> OutboxError {
        if let e = error as? DatabaseError {
            if e.resultCode == .SQLITE_FULL { return .full(e.message ?? "database or disk is full") }
            return .storage("\(e.resultCode): \(e.message ?? "")")
        }
        if let e = error as? OutboxError { return e }
        return .storage("\(error)")
    }

    // MARK: Reading and acknowledging

    /// The newest row id (0 when the outbox never held anything).
    public func lastID() throws(OutboxError) -> Int64 {
        do {
            return try db.read { db in
                try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'outbox'") ?? 0
            }
        } catch { throw Self.classify(error) }
    }

    /// Up to `limit` rows of `lane` with `after < id ≤ through`, oldest first; `lane`
    /// nil takes both lanes.
    public func fetch(lane: Lane?, after: Int64, through: Int64 = .max, limit: Int) throws(OutboxError) -> [OutboxRecord] {
        do {
            return try db.read { db in
                let rows: [Row]
                if let lane {
                    rows = try Row.fetchAll(
                        db, sql: "SELECT id, stream, seq, src_ts, enq_ts, class, lane, payload FROM outbox WHERE lane = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
                        arguments: [lane.rawValue, after, through, limit])
                } else {
                    rows = try Row.fetchAll(
                        db, sql: "SELECT id, stream, seq, src_ts, enq_ts, class, lane, payload FROM outbox WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                        arguments: [after, through, limit])
                }
                return rows.map { r in
                    let payload: Data = r[7]
                    return OutboxRecord(
                        id: r[0], stream: r[1], seq: r[2], sourceTime: Date(timeIntervalSince1970: r[3]),
                        enqueued: Date(timeIntervalSince1970: r[4]), messageClass: MessageClass(rawValue: r[5]) ?? .event,
                        lane: Lane(rawValue: r[6]) ?? .live, payload: [UInt8](payload))
                }
            }
        } catch { throw Self.classify(error) }
    }

    /// Removes acknowledged rows (one transaction).
    public func acknowledge(_ ids: [Int64]) throws(OutboxError) {
        guard !ids.isEmpty else { return }
        do {
            let freed = try db.write { db -> (Int, Int) in
                let list = ids.map(String.init).joined(separator: ",")
                let bytes = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM outbox WHERE id IN (\(list))") ?? 0
                try db.execute(sql: "DELETE FROM outbox WHERE id IN (\(list))")
                return (db.changesCount, bytes)
            }
            state.withLock {
                $0.count -= freed.0
                $0.totalBytes -= freed.1
            }
        } catch { throw Self.classify(error) }
    }

    /// Moves a row the cloud broker refused to `dead_letter`, with the reason; it is not retried.
    public func deadLetter(_ id: Int64, reason: String, now: Date = Date()) throws(OutboxError) {
        do {
            let freed = try db.write { db -> Int in
                let bytes = try Int.fetchOne(db, sql: "SELECT bytes FROM outbox WHERE id = ?", arguments: [id]) ?? 0
                try db.execute(
                    sql: "INSERT OR REPLACE INTO dead_letter SELECT id, class, stream, seq, src_ts, payload, ?, ? FROM outbox WHERE id = ?",
                    arguments: [reason, now.timeIntervalSince1970, id])
                try db.execute(sql: "DELETE FROM outbox WHERE id = ?", arguments: [id])
                return db.changesCount > 0 ? bytes : -1
            }
            if freed >= 0 {
                state.withLock {
                    $0.count -= 1
                    $0.totalBytes -= freed
                }
            }
        } catch { throw Self.classify(error) }
    }

    /// Dead letters, oldest first: (stream, seq, reason).
    public func deadLetters() throws(OutboxError) -> [(stream: String, seq: Int64, reason: String)] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT stream, seq, reason FROM dead_letter ORDER BY id").map { ($0[0], $0[1], $0[2]) }
            }
        } catch { throw Self.classify(error) }
    }

    /// Records a command id; returns `true` if it was already recorded (a replay).
    /// Ids older than `keep` are forgotten (commands that old are refused as expired anyway).
    public func commandSeen(_ id: String, now: Date = Date(), keep: TimeInterval = 86_400) throws(OutboxError) -> Bool {
        do {
            return try db.write { db in
                try db.execute(sql: "DELETE FROM commands_seen WHERE at < ?", arguments: [now.timeIntervalSince1970 - keep])
                try db.execute(sql: "INSERT OR IGNORE INTO commands_seen(id, at) VALUES (?, ?)", arguments: [id, now.timeIntervalSince1970])
                return db.changesCount == 0
            }
        } catch { throw Self.classify(error) }
    }

    /// The value `append`'s `derive` saved under `key` (nil: none yet).
    public func sidecar(_ key: String) throws(OutboxError) -> [UInt8]? {
        do {
            return try db.read { db in
                try Data.fetchOne(db, sql: "SELECT value FROM sidecar WHERE key = ?", arguments: [key]).map { [UInt8]($0) }
            }
        } catch { throw Self.classify(error) }
    }

    /// Messages and payload bytes waiting.
    public var depth: (messages: Int, bytes: Int) { state.withLock { ($0.count, $0.totalBytes) } }

    /// The last sequence number given to `stream` (0: none yet).
    public func lastSeq(of stream: String) -> Int64 { state.withLock { $0.lastSeq[stream] ?? 0 } }

    // MARK: Change notification

    /// Yields after every append that stored something (coalesced), for the sender to wake up.
    public func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        listeners.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.listeners.withLock { $0.removeValue(forKey: id) } }
        return stream
    }

    private func notify() {
        for l in listeners.withLock({ Array($0.values) }) { l.yield() }
        let woken = waiters.withLock { w -> [CheckedContinuation<Void, Never>] in
            w.generation &+= 1
            defer { w.list.removeAll() }
            return Array(w.list.values)
        }
        for c in woken { c.resume() }
    }

    /// Counts appends that stored something; pass it to `waitForChange(since:timeout:)`.
    public var changeCount: UInt64 { waiters.withLock { $0.generation } }

    /// Returns when something was stored after `changeCount` read `generation`, or
    /// after `timeout`, or when the task is cancelled: the sender sleeps here when idle.
    public func waitForChange(since generation: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.changed(since: generation) }
            await group.next()
            group.cancelAll()
        }
    }

    private func changed(since generation: UInt64) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = waiters.withLock { w -> Bool in
                    if w.generation != generation || Task.isCancelled { return true }
                    w.list[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let c = waiters.withLock { $0.list.removeValue(forKey: id) }
            c?.resume()
        }
    }
}
