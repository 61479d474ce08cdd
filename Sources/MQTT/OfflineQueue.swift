/// Messages held while the broker is unreachable, bounded, with an explicit
/// policy when full. Every drop is counted (and logged by the client), never silent.
struct OfflineQueue {
    enum Outcome: Equatable {
        case queued
        /// The oldest message was dropped to make room for this one.
        case queuedDroppingOldest
        case rejected
    }

    let policy: MQTTOfflineQueuePolicy
    private var storage: [MQTTMessage] = []
    private var head = 0
    private(set) var droppedCount: UInt64 = 0

    init(policy: MQTTOfflineQueuePolicy) { self.policy = policy }

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func push(_ message: MQTTMessage) -> Outcome {
        guard policy.capacity > 0 else {
            droppedCount += 1
            return .rejected
        }
        if count < policy.capacity {
            storage.append(message)
            return .queued
        }
        droppedCount += 1
        switch policy.whenFull {
        case .rejectNew:
            return .rejected
        case .dropOldest:
            head += 1
            storage.append(message)
            compactIfNeeded()
            return .queuedDroppingOldest
        }
    }

    /// Removes and returns everything, oldest first.
    mutating func drain() -> [MQTTMessage] {
        let out = Array(storage[head...])
        storage.removeAll(keepingCapacity: false)
        head = 0
        return out
    }

    private mutating func compactIfNeeded() {
        if head > 1024 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
