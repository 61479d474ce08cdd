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
    /// P1 parse rate).
    private var positions: [Quantity: Int]

    public init(device: String, time: MeterTimestamp, values: [(Quantity, MeasuredValue)] = []) {
        self.device = device
        self.time = time
        self.values = []
        self.positions = [:]
        self.values.reserveCapacity(values.count)
        self.positions.reserveCapacity(values.count)
        for (q, v) in values { set(q, v) }
    }

    public mutating func set(_ quantity: Quantity, _ value: MeasuredValue) {
        if let i = positions[quantity] {
            values[i].value = value
        } else {
            positions[quantity] = values.count
            values.append((quantity, value))
        }
    }

    public mutating func set(_ quantity: Quantity, _ number: Double) { set(quantity, .number(number)) }

    public subscript(_ quantity: Quantity) -> MeasuredValue? {
        positions[quantity].map { values[$0].value }
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
