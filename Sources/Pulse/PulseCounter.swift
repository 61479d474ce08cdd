import Foundation
import PhasorCore

/// One input's pipeline: debounce, count, persist, read. A pulse is saved before
/// `handle` returns, so whoever publishes or acknowledges it after that knows it
/// survives a crash; on start the saved count is loaded, never replayed.
public actor PulseCounter {
    public nonisolated let config: PulseInputConfig
    private let store: PulseCounterStore
    private var debouncer: Debouncer
    private var meter: PulseMeter
    /// Edges the source reported missing (kernel buffer overflow), for the logs.
    public private(set) var missed = 0

    public init(config: PulseInputConfig, store: PulseCounterStore) throws(PulseCounterStore.StoreError) {
        self.config = config
        self.store = store
        try store.createFolder()
        meter = PulseMeter(config: config, count: try store.load())
        debouncer = Debouncer(interval: (config.debounceMs ?? 30) / 1000)
    }

    /// Counts the edge unless it is bounce; returns whether it counted.
    public func handle(_ edge: PulseEdge) throws(PulseCounterStore.StoreError) -> Bool {
        missed += edge.missed
        guard debouncer.accept(edge.time) else { return false }
        meter.record(at: edge.time)
        try store.save(meter.count)
        return true
    }

    public var count: UInt64 { meter.count }
    public var bounces: Int { debouncer.rejected }

    public func reading(at now: Date) -> Reading { meter.reading(at: now) }
}
