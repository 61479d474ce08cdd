import Foundation

/// Keeps the figures users read about control itself: setpoint changes per hour per
/// charge point, seconds a meter showed a node above its limit, and the share of the
/// room the solver found that the cars were actually given.
enum ControlStatistics {
    /// Decisions further apart than this are not counted as continuous time, s.
    static let maxGap: TimeInterval = 5

    static func update(
        _ stats: ControlStats?, previous: [ChargePointSession], setpoints: [Setpoint], target: Solution,
        chosen: [Choice?], model: SiteModel, measurements: Measurements, now: Date
    ) -> ControlStats {
        var s = stats ?? ControlStats()
        if s.since == nil { s.since = now }
        let hourAgo = now.addingTimeInterval(-3600)
        for (i, sp) in setpoints.enumerated() {
            var times = (s.changes[sp.chargePoint] ?? []).filter { $0 > hourAgo }
            if abs(sp.current - previous[i].setpoint) > 1e-6 {
                times.append(now)
                s.totalChanges[sp.chargePoint, default: 0] += 1
            }
            s.changes[sp.chargePoint] = times
        }
        for node in model.nodes {
            guard case .device(let device) = node.meter, let sample = measurements.meters[device],
                let currents = sample.currents
            else { continue }
            let last = s.lastMeterTime[node.id]
            guard last.map({ sample.time > $0 }) ?? true else { continue }
            if let last, (0..<3).contains(where: { currents[$0] > node.limit[$0] + 1e-6 }) {
                s.overLimitSeconds[node.id, default: 0] += min(sample.time.timeIntervalSince(last), node.meterTimeout)
            }
            s.lastMeterTime[node.id] = sample.time
        }
        if let last = s.lastDecision {
            let dt = min(max(0, now.timeIntervalSince(last)), maxGap)
            var used = 0.0
            var available = 0.0
            for c in target.allocation.candidates {
                available += c.current * Double(c.phases)
                if let choice = chosen[c.chargePoint] { used += min(choice.current * Double(choice.phases), c.current * Double(c.phases)) }
            }
            s.usedAmpereSeconds += used * dt
            s.availableAmpereSeconds += available * dt
        }
        s.lastDecision = now
        return s
    }
}
