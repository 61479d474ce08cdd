/// Outgoing messages handed to libmosquitto and not yet complete, by message id.
///
/// Message ids are 16-bit, so a flat table indexed by mid replaces a dictionary:
/// every tracked publish inserted and removed one entry, and hashing them showed in
/// the QoS 1 profile (issue 15). 64 KB per client.
struct PendingMessages {
    /// 0 = free, else QoS raw value + 1.
    private var slots: [UInt8]
    private(set) var count = 0

    init() { slots = [UInt8](repeating: 0, count: 1 << 16) }

    var isEmpty: Bool { count == 0 }

    private static func slot(_ mid: Int32) -> Int { Int(UInt16(truncatingIfNeeded: mid)) }

    mutating func insert(_ mid: Int32, qos: QoS) {
        let i = Self.slot(mid)
        if slots[i] == 0 { count += 1 }
        slots[i] = UInt8(qos.rawValue + 1)
    }

    /// Removes the entry; its QoS, or nil when `mid` was not pending.
    @discardableResult
    mutating func remove(_ mid: Int32) -> QoS? {
        guard count > 0 else { return nil }
        let i = Self.slot(mid)
        let stored = slots[i]
        guard stored != 0 else { return nil }
        slots[i] = 0
        count -= 1
        return QoS(rawValue: Int32(stored) - 1)
    }

    /// Drops every QoS 0 entry (they die with the socket); returns how many there were.
    mutating func removeAtMostOnce() -> Int {
        guard count > 0 else { return 0 }
        let marker = UInt8(QoS.atMostOnce.rawValue + 1)
        var removed = 0
        for i in slots.indices where slots[i] == marker {
            slots[i] = 0
            removed += 1
        }
        count -= removed
        return removed
    }
}
