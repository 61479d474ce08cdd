import Foundation

/// One value of a reading: a number in the quantity's unit, a text, or a meter timestamp.
public enum MeasuredValue: Sendable, Hashable {
    case number(Double)
    case text(String)
    /// A timestamp the meter sent; `nil` when the meter sent a "no value" placeholder
    /// (e.g. `632525252525W`), which must never be published as a date.
    case time(MeterTimestamp?)

    public var number: Double? { if case .number(let v) = self { v } else { nil } }
    public var text: String? { if case .text(let v) = self { v } else { nil } }
}

/// A point in time together with the UTC offset the meter used, so it can be
/// published as ISO 8601 with the right offset (P1 `S`/`W` flag, TIC horodate season).
public struct MeterTimestamp: Sendable, Hashable {
    public var date: Date
    public var utcOffsetSeconds: Int
    public init(date: Date, utcOffsetSeconds: Int) {
        self.date = date
        self.utcOffsetSeconds = utcOffsetSeconds
    }
    /// `2026-03-29T02:15:00+02:00`
    public var iso8601: String { ISO8601.format(date, utcOffsetSeconds: utcOffsetSeconds) }
}

/// All quantities of one telegram, frame or poll, with one timestamp: what the
/// gateway publishes atomically on `…/meter/<device>/state`.
public struct Reading: Sendable, Hashable {
    /// The device id from the site configuration (`p1`, `tic1`, `grid_meter`…).
    public var device: String
    /// When the reading was taken: the meter's own clock when it sends one, else receive time.
    public var time: MeterTimestamp
    /// Values in the order the source gave them (a later duplicate replaces an earlier one).
    public private(set) var values: [(quantity: Quantity, value: MeasuredValue)]
    /// Position of each quantity in `values`: a telegram carries 30–60 values and a
    /// linear search per `set` made building a reading quadratic (it dominated the
    /// P1 parse rate). An open-addressing table of `values` indices + 1 (0 = free),
    /// keyed by an FNV-1a hash of the name's bytes: a `[Quantity: Int]` dictionary
    /// (SipHash per name) cost ~120 ns per value, as much as half the P1 parse (issue 15).
    private var slots: [Int32]

    public init(device: String, time: MeterTimestamp, values: [(Quantity, MeasuredValue)] = []) {
        self.device = device
        self.time = time
        self.values = []
        self.slots = []
        self.values.reserveCapacity(values.count)
        reindex(capacity: values.count)
        for (q, v) in values { set(q, v) }
    }

    /// The same reading as `init(device:time:values:)` gives for these values, built
    /// without copying them when no quantity repeats (a telegram's usual case: the
    /// array is adopted as it is and only the index is built). With a repeat it falls
    /// back to `set`, so the later value replaces the earlier one in its place.
    public init(device: String, time: MeterTimestamp, labeledValues: [(quantity: Quantity, value: MeasuredValue)]) {
        self.device = device
        self.time = time
        self.values = labeledValues
        self.slots = []
        var size = 16
        while size < labeledValues.count * 2 + 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        for i in labeledValues.indices {
            let (slot, found) = find(labeledValues[i].quantity)
            guard found == nil else {
                self.values = []
                self.values.reserveCapacity(labeledValues.count)
                reindex(capacity: labeledValues.count)
                for (q, v) in labeledValues { set(q, v) }
                return
            }
            slots[slot] = Int32(i + 1)
        }
    }

    public mutating func set(_ quantity: Quantity, _ value: MeasuredValue) {
        let (slot, found) = find(quantity)
        if let found {
            values[found].value = value
            return
        }
        values.append((quantity, value))
        if values.count * 2 > slots.count {
            reindex(capacity: values.count)
        } else {
            slots[slot] = Int32(values.count)
        }
    }

    public mutating func set(_ quantity: Quantity, _ number: Double) { set(quantity, .number(number)) }

    public subscript(_ quantity: Quantity) -> MeasuredValue? {
        find(quantity).found.map { values[$0].value }
    }

    private static func hash(_ quantity: Quantity) -> Int {
        // Over the string's own bytes when it has them (every native string): iterating
        // `utf8` decodes index by index and was most of a reading's cost on top of the parse.
        let utf8 = quantity.rawValue.utf8
        let h = utf8.withContiguousStorageIfAvailable { mix($0) } ?? Array(utf8).withUnsafeBufferPointer { mix($0) }
        return Int(truncatingIfNeeded: h)
    }

    /// Eight bytes per multiply (byte-wise FNV-1a was a chain of one multiply per byte:
    /// ~15 per name, most of what building a reading cost after the parse).
    @inline(__always)
    private static func mix(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = bytes.count
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(n)
        guard let base = bytes.baseAddress else { return h }
        var i = 0
        while n - i >= 8 {
            h = (h ^ UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(base[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0x9E37_79B9_7F4A_7C15
        return h ^ (h >> 32)
    }

    /// The slot where `quantity` is or would go, and its index in `values` if present.
    private func find(_ quantity: Quantity) -> (slot: Int, found: Int?) {
        let mask = slots.count - 1
        var slot = Self.hash(quantity) & mask
        while slots[slot] != 0 {
            let i = Int(slots[slot]) - 1
            if values[i].quantity == quantity { return (slot, i) }
            slot = (slot + 1) & mask
        }
        return (slot, nil)
    }

    /// Rebuilds the table for at least `capacity` values (load factor ≤ ½).
    private mutating func reindex(capacity: Int) {
        var size = 16
        while size < capacity * 2 + 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        let mask = size - 1
        for (i, entry) in values.enumerated() {
            var slot = Self.hash(entry.quantity) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(i + 1)
        }
    }

    public func number(_ quantity: Quantity) -> Double? { self[quantity]?.number }

    public static func == (a: Reading, b: Reading) -> Bool {
        a.device == b.device && a.time == b.time && a.values.count == b.values.count
            && zip(a.values, b.values).allSatisfy { $0.quantity == $1.quantity && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(device)
        hasher.combine(time)
        for (q, v) in values {
            hasher.combine(q)
            hasher.combine(v)
        }
    }
}
