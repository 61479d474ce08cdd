import Control
import Foundation
import PhasorCore

extension ControlLoopService {
    /// Decides and publishes at once: setpoints first (the gateway is waiting for
    /// them), then the state. Publishing under the engine's lock keeps sequence
    /// numbers in order on the wire when a reading and the timer race.
    func runCycle() {
        let now = clock.now()
        engine.withLock { engine in
            let decision = engine.cycle(now: now)
            publisher.publishSetpoints(decision, sequence: engine.sequence, now: now) { engine.describe($0, now: now) }
            publisher.publishState(ControlStatePayload.encode(engine: engine, decision: decision, now: now))
        }
        lastCycle.withLock { $0 = .now }
    }
}
