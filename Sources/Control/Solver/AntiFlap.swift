import Foundation

/// Turning the exact solution into setpoints a charger accepts, without flapping.
///
/// - Currents are rounded down to the charger's step (never up: rounding up could
///   exceed a limit); the steps freed by rounding are handed out again one at a
///   time starting from the first-ranked point ("remaining power is redistributed
///   starting again at point 1").
/// - When a changed setpoint is worth a write (hysteresis, spacing of increases,
///   break before make) is decided in `Sequencing`.
/// - Minimum run and pause times are applied in admission (`shed`, `admitNew`).
extension Allocation {
    mutating func roundToSteps(steps: [Double]) {
        for k in candidates.indices where candidates[k].current > 0 {
            let step = steps[k]
            let rounded = ((candidates[k].current + Self.tolerance) / step).rounded(.down) * step
            candidates[k].current = max(candidates[k].minimum, min(rounded, candidates[k].maximum))
        }
        // Constraint loads are kept up to date as steps are handed out, so each raise
        // only looks at the constraints its car takes part in.
        var loads = constraints.map { load($0) }
        var constraintsOf = [[Int]](repeating: [], count: candidates.count)
        for (ci, c) in constraints.enumerated() {
            for k in c.members { constraintsOf[k].append(ci) }
        }
        let order = candidates.indices.sorted { candidates[$0].rank < candidates[$1].rank }
        var gaveAStep = true
        while gaveAStep {
            gaveAStep = false
            for k in order where candidates[k].current > 0 {
                // Counted in whole steps, so a hundred raises do not drift off the charger's grid.
                let raised = ((candidates[k].current / steps[k]).rounded() + 1) * steps[k]
                guard raised <= candidates[k].maximum + Self.tolerance else { continue }
                let delta = raised - candidates[k].current
                let fits = constraintsOf[k].allSatisfy { ci in
                    let added = coefficient(constraints[ci], k) * delta
                    return added <= 0 || loads[ci] + added <= constraints[ci].capacity + Self.tolerance
                }
                guard fits else { continue }
                for ci in constraintsOf[k] { loads[ci] += coefficient(constraints[ci], k) * delta }
                candidates[k].current = raised
                gaveAStep = true
            }
        }
    }
}
