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
        let h = utf8.withContiguousStorageIfAvailable { fnv1a($0) } ?? fnv1a(utf8)
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    private static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
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
