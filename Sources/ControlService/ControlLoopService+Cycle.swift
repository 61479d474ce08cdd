import Control
import Foundation
import PhasorCore

extension ControlLoopService {
    /// Decides and publishes at once: setpoints first (the gateway is waiting for
    /// them), then the state. Publishing under the engine's lock keeps sequence
    /// numbers in order on the wire when a reading and the timer race.
    func runCycle(byMeter: Bool = false) {
        let now = clock.now()
        engine.withLock { engine in
            let decision = engine.cycle(now: now)
            publisher.publishSetpoints(decision, sequence: engine.sequence, now: now) { engine.describe($0, now: now) }
            publisher.publishState(ControlStatePayload.encode(engine: engine, decision: decision, now: now))
            for command in engine.dueRelayCommands(now: now) { publisher.publishRelay(command.id, on: command.on) }
        }
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
