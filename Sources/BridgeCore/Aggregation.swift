import Foundation
import MQTT
import PhasorCore

/// One line of the bridge's `aggregate:` list: local topics (below `<prefix>/<site>/`)
/// whose JSON payloads are summed up before forwarding, so a vendor forwards (and pays
/// for) one message per window instead of one per reading.
///
/// ```yaml
/// aggregate:
///   - {topic: meter/+/state, average_s: 10, energy_s: 900}
/// ```
public struct AggregateRule: Sendable, Hashable, Decodable {
    public var topic: String
    /// Window of the averages: mean, min and max of every numeric field that is not an
    /// energy register (`<stream>/avg_<n>s`, class `instantaneous`).
    public var averageS: Int?
    /// Window of the energy record: each register at the window's boundaries and its
    /// delta (`<stream>/energy_<n>s`, class `energy`: never thinned).
    public var energyS: Int?
    /// Also forward the readings themselves (default `false`: only the aggregates).
    public var raw: Bool?

    public init(topic: String, averageS: Int? = nil, energyS: Int? = nil, raw: Bool? = nil) {
        self.topic = topic
        self.averageS = averageS
        self.energyS = energyS
        self.raw = raw
    }

    /// A problem with the rule's windows, or nil (`BridgeSiteCheck` reports it).
    public var windowProblem: (field: String, message: String)? {
        if averageS == nil && energyS == nil { return ("average_s", "give average_s, energy_s or both") }
        if let a = averageS, !(1...3600).contains(a) { return ("average_s", "\(a): use 1…3600 seconds") }
        if let e = energyS, !(e >= 60 && (3600 % e == 0 || (e % 3600 == 0 && 86_400 % e == 0))) {
            return ("energy_s", "\(e): use a whole number of minutes that divides an hour, or of hours that divides a day (900 = quarter-hours)")
        }
        return nil
    }

    /// Energy registers and volumes: cumulative, so never averaged (`energy_import`,
    /// `energy_export_t2`, `reactive_energy_import`, `gas_volume`, …).
    public static func isRegister(_ field: String) -> Bool {
        field.contains("energy") || field.hasSuffix("_volume")
    }
}

/// A message an aggregate window produced, for the outbox.
public struct AggregateOutput: Sendable, Hashable {
    public var stream: String
    public var payload: [UInt8]
    /// The window's end.
    public var sourceTime: Date
    public var messageClass: MessageClass
}

/// The aggregates in progress, by source time (the payload's `"time"`, never the
/// clock: a backlog the site's broker kept while the bridge was down aggregates as it
/// would have live). A window closes when a reading of a later window arrives on its
/// stream, or when readings of other streams are a whole window (at least a minute)
/// past its end — a meter that stopped still gets its last window forwarded once the
/// others go on. Pure: no I/O. The state is `Codable`: the intake saves it in the
/// outbox in the same transaction as the readings it took in, so a kill -9 loses no
/// reading that was acknowledged.
public struct Aggregator: Sendable {
    public let root: String
    let rules: [(filter: TopicFilter, rule: AggregateRule)]
    public private(set) var state = State()

    public struct State: Codable, Sendable, Equatable {
        var averages: [String: AverageWindow] = [:]
        var energy: [String: EnergyWindow] = [:]
        /// The last reading of an energy window closed by `sweep`: the next window opens with it.
        var openings: [String: Reading] = [:]
        /// Where the windows `sweep` closed ended: a reading before that is late.
        var closedUntil: [String: Double] = [:]
        /// Late readings not yet reported (in the stream's next average window).
        var late: [String: Int] = [:]
        /// The newest source time taken in, any stream.
        var watermark: Double = 0
        public init() {}
    }

    struct AverageWindow: Codable, Sendable, Equatable {
        var start: Double
        var length: Double
        var samples = 0
        var late = 0
        var sum: [String: Double] = [:]
        var count: [String: Int] = [:]
        var min: [String: Double] = [:]
        var max: [String: Double] = [:]
        var registers: [String: Double] = [:]
        var device: String?
    }

    struct Reading: Codable, Sendable, Equatable {
        var time: Double
        var registers: [String: Double]
    }

    struct EnergyWindow: Codable, Sendable, Equatable {
        var start: Double
        var length: Double
        /// The last reading at or before `start` (nil for the first window after the
        /// aggregator began: then the window's first reading, and `complete: false`).
        var opening: Reading?
        var first: Reading
        var last: Reading
        var device: String?
    }

    public init(root: String, rules: [AggregateRule], state: State = State()) throws {
        self.root = root
        self.rules = try rules.map { (try TopicFilter("\(root)/\($0.topic)"), $0) }
        self.state = state
    }

    /// The local subscription filters, one per rule.
    public var filters: [String] { rules.map(\.filter.filter) }

    /// The stream and rule of a local message an aggregate takes, or nil.
    public func match(topic: String) -> (stream: String, rule: AggregateRule)? {
        guard topic.hasPrefix(root + "/"), let match = rules.first(where: { $0.filter.matches(topic) }) else { return nil }
        return (String(topic.dropFirst(root.count + 1)), match.rule)
    }

    public enum IngestError: Error, Sendable, Equatable {
        /// Not a JSON object with a `"time"` and numbers: nothing was taken in.
        case unreadable(String)
    }

    /// Takes in one reading of `stream` (a JSON object with `"time"`); returns the windows it closed.
    public mutating func ingest(stream: String, rule: AggregateRule, payload: [UInt8]) throws(IngestError) -> [AggregateOutput] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] else {
            throw .unreadable("not a JSON object")
        }
        guard let timeText = object["time"] as? String, let time = ISO8601.parse(timeText)?.date.timeIntervalSince1970 else {
            throw .unreadable("no \"time\" (ISO 8601) to place it in a window")
        }
        var numbers: [String: Double] = [:]
        for (key, value) in object {
            // JSON booleans arrive as NSNumber too (type "c"): not quantities.
            guard let n = value as? NSNumber, String(cString: n.objCType) != "c" else { continue }
            numbers[key] = n.doubleValue
        }
        let device = object["device"] as? String
        state.watermark = max(state.watermark, time)
        var out: [AggregateOutput] = []
        if let a = rule.averageS { out += average(stream: stream, length: Double(a), time: time, numbers: numbers, device: device) }
        if let e = rule.energyS { out += energy(stream: stream, length: Double(e), time: time, numbers: numbers, device: device) }
        return out
    }

    /// Closes the windows the newest reading (any stream) is a whole window, and at
    /// least a minute, past the end of.
    public mutating func sweep() -> [AggregateOutput] {
        let t = state.watermark
        var out: [AggregateOutput] = []
        for (stream, w) in state.averages.sorted(by: { $0.key < $1.key }) where t >= w.start + w.length + max(w.length, 60) {
            out.append(Self.close(w, stream: stream))
            state.averages[stream] = nil
            state.closedUntil[stream] = w.start + w.length
        }
        for (stream, w) in state.energy.sorted(by: { $0.key < $1.key }) where t >= w.start + w.length + max(w.length, 60) {
            out.append(Self.close(w, stream: stream))
            // The next window opens with this one's last reading: deltas chain exactly.
            state.energy[stream] = nil
            state.openings[stream] = w.last
            state.closedUntil[stream] = w.start + w.length
        }
        return out
    }

    private mutating func average(stream: String, length: Double, time: Double, numbers: [String: Double], device: String?)
        -> [AggregateOutput]
    {
        let name = "\(stream)/avg_\(Int(length))s"
        let start = (time / length).rounded(.down) * length
        var out: [AggregateOutput] = []
        guard var w = state.averages[name] else {
            if time < state.closedUntil[name] ?? 0 {
                // A reading of a window already closed: counted, not mixed in.
                state.late[name, default: 0] += 1
                return out
            }
            var w = AverageWindow(start: start, length: length)
            w.late = state.late.removeValue(forKey: name) ?? 0
            state.averages[name] = w
            return average(stream: stream, length: length, time: time, numbers: numbers, device: device)
        }
        if start > w.start {
            out.append(Self.close(w, stream: name))
            w = AverageWindow(start: start, length: length)
        } else if start < w.start {
            w.late += 1
            state.averages[name] = w
            return out
        }
        w.samples += 1
        w.device = device ?? w.device
        for (key, value) in numbers {
            if AggregateRule.isRegister(key) {
                w.registers[key] = value
            } else {
                w.sum[key, default: 0] += value
                w.count[key, default: 0] += 1
                w.min[key] = Swift.min(w.min[key] ?? value, value)
                w.max[key] = Swift.max(w.max[key] ?? value, value)
            }
        }
        state.averages[name] = w
        return out
    }

    private mutating func energy(stream: String, length: Double, time: Double, numbers: [String: Double], device: String?)
        -> [AggregateOutput]
    {
        let name = "\(stream)/energy_\(Int(length))s"
        let registers = numbers.filter { AggregateRule.isRegister($0.key) }
        guard !registers.isEmpty else { return [] }
        let reading = Reading(time: time, registers: registers)
        let start = (time / length).rounded(.down) * length
        var out: [AggregateOutput] = []
        guard var w = state.energy[name] else {
            let opening = state.openings[name]
            if let opening, opening.time >= time { return [] }  // not newer than what was closed
            state.openings[name] = nil
            // After a window `sweep` closed, a reading of that window's time opens the next one.
            let from = max(start, state.closedUntil[name] ?? start)
            state.energy[name] = EnergyWindow(start: from, length: length, opening: opening, first: reading, last: reading, device: device)
            return []
        }
        // Registers never go back in time: an older reading (late, or a copy) changes nothing.
        guard time > w.last.time else { return [] }
        if start > w.start {
            // A reading exactly on the boundary is the register at the boundary: it ends
            // this window and opens the next.
            if time == w.start + w.length { w.last = reading }
            out.append(Self.close(w, stream: name))
            w = EnergyWindow(start: start, length: length, opening: w.last, first: reading, last: reading, device: device)
        } else {
            w.last = reading
            w.device = device ?? w.device
        }
        state.energy[name] = w
        return out
    }

    static func close(_ w: AverageWindow, stream: String) -> AggregateOutput {
        var j = JSONWriter()
        let end = Date(timeIntervalSince1970: w.start + w.length)
        j.beginObject()
        if let d = w.device { j.key("device"); j.value(d) }
        j.key("time"); j.value(ISO8601.format(end, utcOffsetSeconds: 0))
        j.key("from"); j.value(ISO8601.format(Date(timeIntervalSince1970: w.start), utcOffsetSeconds: 0))
        j.key("to"); j.value(ISO8601.format(end, utcOffsetSeconds: 0))
        j.key("samples"); j.value(w.samples)
        if w.late > 0 { j.key("late"); j.value(w.late) }
        for (label, values) in [("mean", w.sum), ("min", w.min), ("max", w.max)] {
            j.key(label)
            j.beginObject()
            for key in values.keys.sorted() {
                j.key(key)
                j.value(label == "mean" ? values[key]! / Double(w.count[key] ?? 1) : values[key]!)
            }
            j.endObject()
        }
        if !w.registers.isEmpty {
            j.key("registers")
            object(&j, w.registers)
        }
        j.endObject()
        return AggregateOutput(stream: stream, payload: j.bytes, sourceTime: end, messageClass: .instantaneous)
    }

    static func close(_ w: EnergyWindow, stream: String) -> AggregateOutput {
        var j = JSONWriter()
        let end = Date(timeIntervalSince1970: w.start + w.length)
        let opening = w.opening ?? w.first
        j.beginObject()
        if let d = w.device { j.key("device"); j.value(d) }
        j.key("time"); j.value(ISO8601.format(end, utcOffsetSeconds: 0))
        j.key("from"); j.value(ISO8601.format(Date(timeIntervalSince1970: w.start), utcOffsetSeconds: 0))
        j.key("to"); j.value(ISO8601.format(end, utcOffsetSeconds: 0))
        // Complete: the opening reading is the last one at or before `from`.
        j.key("complete"); j.value(w.opening != nil)
        for (label, r) in [("start", opening), ("end", w.last)] {
            j.key(label)
            j.beginObject()
            j.key("time"); j.value(ISO8601.format(Date(timeIntervalSince1970: r.time), utcOffsetSeconds: 0))
            for key in r.registers.keys.sorted() {
                j.key(key)
                j.value(r.registers[key]!)
            }
            j.endObject()
        }
        j.key("delta")
        object(&j, Dictionary(uniqueKeysWithValues: w.last.registers.compactMap { key, value in
            opening.registers[key].map { (key, value - $0) }
        }))
        j.endObject()
        return AggregateOutput(stream: stream, payload: j.bytes, sourceTime: end, messageClass: .energy)
    }

    static func object(_ j: inout JSONWriter, _ values: [String: Double]) {
        j.beginObject()
        for key in values.keys.sorted() {
            j.key(key)
            j.value(values[key]!)
        }
        j.endObject()
    }
}
