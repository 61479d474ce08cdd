import Control
import Foundation
import PhasorCore
import Plant

/// Control run against the plant with the service's timing: a decision on every reading
/// of the main meter, and on a timer (`cycleInterval`) when none came; every setpoint of
/// a decision is written to its charger at once (the charger applies it after its write
/// latency). Charger reports and other meters' readings are kept for the next decision.
/// A charger without a report for `offlineAfter` is marked offline, as the gateway does.
public struct ClosedLoop: Sendable {
    public let model: SiteModel
    public var plant: Plant
    public private(set) var state: ControlState
    public private(set) var measurements = Measurements()
    public private(set) var decision: Decision?
    public private(set) var stats: LoopStats
    public var cycleInterval: TimeInterval = 1
    public var offlineAfter: TimeInterval = 5
    /// The first decision waits this long after the start (the service's startup delay).
    public var startupDelay: TimeInterval = 0.5
    /// While no car is plugged in anywhere, decide only this often (readings do not trigger):
    /// nothing is steered then, and the budget's bookkeeping reads the meter's 1-0:1.4.0.
    /// `nil` (the default): always the service's timing. A simulated year uses it to run in minutes.
    public var idleInterval: TimeInterval?
    private let mainMeter: String?
    private var lastDecision: Date?
    private let start: Date

    public init(model: SiteModel, plant: Plant) {
        self.model = model
        self.plant = plant
        self.state = ControlState(model: model)
        self.start = plant.now
        if case .device(let device) = model.nodes[0].meter { mainMeter = device } else { mainMeter = nil }
        stats = LoopStats(model: model, start: plant.now)
    }

    /// Runs until `end`; `events` (sorted or not) are applied to the plant at their times.
    public mutating func run(until end: Date, events: [ScheduledEvent] = []) {
        var pending = events.filter { $0.time > plant.now }.sorted { $0.time < $1.time }
        for e in events where e.time <= plant.now { e.apply(&plant) }
        while plant.now < end {
            let idle = idleInterval.flatMap { interval in
                model.chargePoints.indices.contains { plant.isPlugged(charger: $0) } ? nil : interval
            }
            let timer = lastDecision.map { $0.addingTimeInterval(idle ?? cycleInterval) } ?? start.addingTimeInterval(startupDelay)
            var t = min(end, plant.nextDelivery, timer)
            if let e = pending.first { t = min(t, e.time) }
            let deliveries = plant.advance(to: t)
            while let e = pending.first, e.time <= plant.now {
                e.apply(&plant)
                pending.removeFirst()
            }
            var mainReading = false
            for d in deliveries {
                switch d.output {
                case .meter(let reading):
                    measurements.meters[reading.device] = MeterSample(reading: reading)
                    if reading.device == mainMeter { mainReading = true }
                case .charger(let report):
                    measurements.chargers[report.device] = ChargerSample(report: report)
                }
            }
            let started = plant.now >= start.addingTimeInterval(startupDelay)
            if started && ((mainReading && idle == nil) || plant.now >= timer) { decide() }
        }
        stats.finish(at: plant.now, plant: plant)
    }

    public mutating func run(seconds: TimeInterval, events: [ScheduledEvent] = []) {
        run(until: plant.now.addingTimeInterval(seconds), events: events)
    }

    private mutating func decide() {
        let now = plant.now
        for (device, sample) in measurements.chargers where sample.online && now.timeIntervalSince(sample.time) > offlineAfter {
            measurements.chargers[device]?.online = false
        }
        let (next, d) = ControlCycle.run(state: state, model: model, measurements: measurements, now: now)
        state = next
        decision = d
        lastDecision = now
        for (i, sp) in d.setpoints.enumerated() { plant.write(charger: i, current: sp.current, phases: sp.phases) }
        stats.record(d, at: now, plant: plant)
    }
}

/// Something the world does to the plant at a given time.
public struct ScheduledEvent: Sendable {
    public var time: Date
    public var apply: @Sendable (inout Plant) -> Void
    public init(at time: Date, _ apply: @escaping @Sendable (inout Plant) -> Void) {
        self.time = time
        self.apply = apply
    }
}
