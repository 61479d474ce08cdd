import PhasorCore

/// EN 13757-3 medium of an M-Bus device (`0-n:24.1.0`). P1 numbers channels in
/// installation order, so values are published by medium, never by channel.
public enum P1MBusMedium: Sendable, Hashable {
    case gas, water, heat, cooling, heatAndCooling, hotWater, electricity
    case other(Int)

    init(code: Int) {
        switch code {
        case 0x03: self = .gas
        case 0x07: self = .water
        case 0x04, 0x0C: self = .heat
        case 0x0A, 0x0B: self = .cooling
        case 0x0D: self = .heatAndCooling
        case 0x06: self = .hotWater
        case 0x02: self = .electricity
        default: self = .other(code)
        }
    }

    /// Name prefix of the device's quantities (`gas` → `gas_volume`, `gas_meter_id`).
    var namePrefix: String {
        switch self {
        case .gas: "gas"
        case .water: "water"
        case .heat: "heat"
        case .cooling: "cooling"
        case .heatAndCooling: "heat_cooling"
        case .hotWater: "hot_water"
        case .electricity: "submeter"
        case .other(let code): "mbus_medium\(code)"
        }
    }

    /// What the device's main register measures.
    var dimension: P1Dimension {
        switch self {
        case .gas, .water, .hotWater, .other: .volume
        case .heat, .cooling, .heatAndCooling: .heatEnergy
        case .electricity: .activeEnergy
        }
    }

    var valueSuffix: String {
        switch dimension {
        case .heatEnergy, .activeEnergy: "energy"
        default: "volume"
        }
    }
}

/// One M-Bus device (gas, water, heat… meter) read through the electricity meter.
public struct P1MBusDevice: Sendable, Hashable {
    public var channel: Int
    /// From `0-n:24.1.0`; nil when the telegram does not say.
    public var medium: P1MBusMedium?
    /// Decoded equipment id (`0-n:96.1.0`, BE `0-n:96.1.1`); nil when empty.
    public var equipmentID: String?
    /// BE e-MUCS 2.x EAN (`0-n:96.1.2`), decoded.
    public var ean: String?
    /// Last captured register value in the published unit (m³, GJ or kWh).
    public var value: Double?
    /// When the value was captured; nil for a placeholder such as `632525252525W`.
    public var captureTime: MeterTimestamp?
    /// Valve / switch position (`0-n:24.4.0`), 1 = open.
    public var valvePosition: Double?
    /// True for a channel the meter reports without a device behind it
    /// (placeholder capture time and a zero value): it is not published.
    public var isEmptyChannel: Bool
    /// The quantity the value was published under (`gas_volume`, `gas2_volume`…).
    public var valueQuantity: Quantity?
}

/// Gathers M-Bus objects by channel while lines are read (their order is free),
/// then names and publishes each device once all lines are known.
struct P1MBusCollector {
    struct Pending {
        var typeCode: Int?
        var equipmentID: Range<Int>?
        var ean: Range<Int>?
        var captureTime: Range<Int>?
        var value: Range<Int>?
        var unitOverride: Range<Int>?
        var valve: Range<Int>?
    }

    static let maximumChannel = 9
    /// The channels seen, in channel order. A short list, not one slot per possible
    /// channel: most telegrams carry one or two devices or none, and a 10-slot array
    /// was allocated for every telegram.
    private(set) var channels: [(channel: Int, pending: Pending)] = []

    /// Takes the object if it is an M-Bus register; false leaves it to the caller.
    mutating func take(
        _ obis: OBISCode, groups g: P1Groups, buf: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        guard obis.a == 0, obis.b >= 1, Int(obis.b) <= Self.maximumChannel else { return false }
        let channel = Int(obis.b)
        let index = channels.firstIndex { $0.channel == channel }
        var p = index.map { channels[$0].pending } ?? Pending()
        switch (obis.c, obis.d, obis.e) {
        case (24, 1, 0):
            // Printed as hex digits of the EN 13757-3 code: `003`, `007`, `00C`, or `3` (DSMR 2.2).
            guard g.count == 1, let code = Self.hexCode(buf, g[0]) else { return false }
            p.typeCode = code
        case (96, 1, 0), (96, 1, 1):
            guard g.count == 1 else { return false }
            p.equipmentID = g[0]
        case (96, 1, 2):
            guard g.count == 1 else { return false }
            p.ean = g[0]
        case (24, 2, 1), (24, 2, 3):
            guard g.count == 2 else { return false }
            p.captureTime = g[0]
            p.value = g[1]
        case (24, 3, 0), (24, 3, 1):
            // DSMR 2.2/3 profile: (TST)(status)(period)(count)(obis)(unit) then (value).
            guard g.count == 7 else { return false }
            p.captureTime = g[0]
            p.unitOverride = g[5]
            p.value = g[6]
        case (24, 4, 0):
            guard g.count == 1 else { return false }
            p.valve = g[0]
        default:
            return false
        }
        if let index {
            channels[index].pending = p
        } else {
            channels.insert((channel, p), at: channels.firstIndex { $0.channel > channel } ?? channels.endIndex)
        }
        return true
    }

    private static func hexCode(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 4 else { return nil }
        var v = 0
        for i in range {
            guard let h = ASCII.hexValue(buf[i]) else { return nil }
            v = v * 16 + Int(h)
        }
        return v
    }
}

/// Zero-based access to one object's value groups. A view into the scanner's
/// group table, valid during the parse: an `ArraySlice` per object retained and
/// released the table's storage every time (issue 15's profile).
struct P1Groups {
    let all: UnsafeBufferPointer<Range<Int>>
    let range: Range<Int>
    var count: Int { range.count }
    subscript(_ i: Int) -> Range<Int> { all[range.lowerBound + i] }
}
