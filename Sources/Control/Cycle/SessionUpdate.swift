import Foundation

/// Carries a charge point's session to the next cycle: run/pause timers for the
/// anti-flap rules, and the phase count, which is detected from the measured
/// currents once the car draws (a car that charges on one phase of a three-phase
/// charger only needs a third of the power for its minimum).
enum SessionUpdate {
    /// A car must draw at least this on its strongest terminal before its phases are counted, A.
    static let detectionCurrent = 2.0
    /// A terminal counts as used above this share of the strongest one.
    static let detectionShare = 0.3
    /// Cars ramp up over several seconds after a start; count only after this, s.
    static let detectionDelay: TimeInterval = 15
    /// A car drawing less than this on every terminal draws nothing, A.
    static let drawingCurrent = 1.0

    static func after(
        _ session: ChargePointSession, chargePoint cp: SiteModel.ChargePoint, setpoint: Double, phases: Int,
        connected: Bool, terminalCurrents: PhaseCurrents?, switchedPhases: Bool, timing: TimingConfig, now: Date
    ) -> ChargePointSession {
        var s = session
        guard connected else {
            // Unplugged: the next car starts afresh (its phases unknown, no pause to wait out).
            var fresh = ChargePointSession(phases: cp.phases)
            fresh.lastPhaseSwitch = session.lastPhaseSwitch
            // The limit is the charger's, not the car's: a car plugged in under a higher limit
            // the charger held moments ago draws it until it follows the lower one (the EV
            // response time), so those limits stay counted (`CarResponse.allowance`) until then.
            if let changes = session.setpointChanges, !changes.isEmpty {
                let history = setpoint != session.setpoint
                    ? recordChange(changes, current: setpoint, now: now, keep: cp.chargerTimeout) : changes
                if CarResponse.allowance(
                    at: now, changes: history, setpoint: setpoint, report: nil, response: timing.evResponseSeconds) > setpoint
                {
                    fresh.setpointChanges = history
                    fresh.setpoint = setpoint
                }
            }
            return fresh
        }
        s.connected = true
        // Count phases only on currents measured under the phase count still in force,
        // and not while a 1p/3p switch is settling.
        let settled = !switchedPhases && session.phases == phases
            && session.lastPhaseSwitch.map { now.timeIntervalSince($0) >= detectionDelay } ?? true
        if settled, s.detectedPhases == nil, session.setpoint > 0, session.phases > 1, let since = session.runningSince,
            now.timeIntervalSince(since) >= detectionDelay, let terminals = terminalCurrents
        {
            let strongest = terminals.max()
            if strongest >= detectionCurrent {
                let used = (0..<3).filter { terminals[$0] >= strongest * detectionShare }.count
                // Terminal 1 always carries the current; a car uses terminals 1, 1-2 or 1-2-3.
                s.detectedPhases = min(used, session.phases)
            }
        }
        // Not drawing: a run of `idleSeconds` (since it started or last drew) with every report under
        // the drawing current. Judged on reports only: a meter cannot tell which car dropped.
        if let terminals = terminalCurrents {
            if terminals.max() >= drawingCurrent {
                s.drawnAt = now
                s.notDrawing = nil
            } else if session.setpoint > 0, setpoint > 0, let since = session.runningSince,
                now.timeIntervalSince(max(since, s.drawnAt ?? since)) >= timing.idleSeconds
            {
                s.notDrawing = true
            }
        }
        if switchedPhases { s.lastPhaseSwitch = now }
        s.phases = min(phases, s.detectedPhases ?? phases)
        // (A run that began on the safe current, while the charger was offline, starts counting
        // when control steers it.)
        if setpoint > 0 && (s.setpoint == 0 || s.runningSince == nil) {
            s.runningSince = now
            // Offered current again after its turn: judged afresh. (Started into spare room it
            // stays not drawing, at its minimum, until a report shows it draws.)
            if let paused = session.pausedSince, timing.turnSeconds > 0,
                now.timeIntervalSince(paused) >= timing.turnSeconds
            {
                s.notDrawing = nil
            }
        } else if setpoint == 0 && s.setpoint > 0 {
            s.pausedSince = now
            s.runningSince = nil
        }
        if (s.setpointChanges ?? []).isEmpty {
            // What the charger drew on its own before our first decision (as reported to
            // this one): the setpoint "in force" for measurements older than that decision.
            s.setpointChanges = [SetpointChange(time: .distantPast, current: terminalCurrents?.max() ?? 0)]
        }
        if setpoint != session.setpoint || s.setpointChanges?.count == 1 {
            s.setpointChanges = recordChange(
                s.setpointChanges, current: setpoint, now: now, keep: cp.chargerTimeout, drawn: terminalCurrents?.max())
        }
        s.setpoint = setpoint
        return s
    }

    /// Appends a change and forgets those no trusted report can predate: older than
    /// `keep` seconds, except the last of them (the one in force back then).
    static func recordChange(
        _ changes: [SetpointChange]?, current: Double, now: Date, keep: TimeInterval, drawn: Double? = nil
    ) -> [SetpointChange] {
        var all = (changes ?? []) + [SetpointChange(time: now, current: current, drawnBefore: drawn)]
        let horizon = now.addingTimeInterval(-keep)
        if let lastBefore = all.lastIndex(where: { $0.time <= horizon }), lastBefore > 0 {
            all.removeFirst(lastBefore)
        }
        return all
    }
}
