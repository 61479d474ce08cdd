import Control
import Foundation
import PhasorCore
import PhasorService

extension ControlLoopService {
    /// Decides and publishes at once: setpoints first (the gateway is waiting for
    /// them), then the state. Publishing under the engine's lock keeps sequence
    /// numbers in order on the wire when a reading and the timer race.
    func runCycle(byMeter: Bool = false) {
        let now = clock.now()
        let started = ContinuousClock.now
        let changes = engine.withLock { engine in
            let decision = engine.cycle(now: now)
            publisher.publishSetpoints(decision, sequence: engine.sequence, now: now) { engine.describe($0, now: now) }
            publisher.publishState(ControlStatePayload.encode(engine: engine, decision: decision, now: now))
            for command in engine.dueRelayCommands(now: now) { publisher.publishRelay(command.id, on: command.on) }
            for due in engine.dueInverterSetpoints(now: now) { publisher.publishInverter(due.setpoint, sequence: due.sequence) }
            return engine.state.stats?.totalChanges ?? [:]
        }
        ControlMetrics.record(decision: ContinuousClock.now - started, setpointChanges: changes)
        lastCycle.withLock { $0 = CycleMark(at: .now, byMeter: byMeter) }
    }
}

/// When the last decision was taken and whether a main-meter reading triggered it.
struct CycleMark: Sendable {
    var at: ContinuousClock.Instant
    var byMeter: Bool

    /// When the timer decides, if nothing else did: one interval after the last
    /// decision, and half an interval more after a meter-triggered one. The meter
    /// sends once per interval too; without the grace its next reading, a
    /// millisecond late, came just after the timer's decision: two decisions (and
    /// two Modbus writes per charger) a second.
    func timerDue(interval: Duration) -> ContinuousClock.Instant {
        at + interval + (byMeter ? interval / 2 : .zero)
    }
}

/// Control's Prometheus metrics (docs/metrics.md): how long a decision takes (decide
/// and publish) and how often each point's setpoint changed.
enum ControlMetrics {
    static func record(decision: Duration, setpointChanges: [String: Int]) {
        let seconds = Double(decision.components.seconds) + Double(decision.components.attoseconds) / 1e18
        PhasorMetrics.observe("phasor_control_decision_duration_seconds", seconds: seconds,
                              help: "Time to decide and publish one cycle")
        PhasorMetrics.increment("phasor_control_decisions_total", help: "Decisions taken")
        for (point, total) in setpointChanges {
            PhasorMetrics.count("phasor_control_setpoint_changes_total", [("chargepoint", point)], total: Double(total),
                                help: "Setpoint changes per charge point")
        }
    }
}
