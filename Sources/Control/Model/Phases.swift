/// Per-phase currents in amperes, indexed by grid phase (L1 = 0, L2 = 1, L3 = 2).
///
/// SIMD3 because every node limit, load and allocation is a triple that is added
/// and compared element-wise many times per cycle.
public typealias PhaseCurrents = SIMD3<Double>

/// How a charge point's terminals 1-2-3 are wired to the grid phases.
///
/// Installers rotate the wiring of successive charge points so that single-phase
/// cars (which draw on terminal 1 only) do not all load L1.
public enum PhaseRotation: String, Sendable, Hashable, Codable, CaseIterable {
    case l1l2l3 = "L1L2L3"
    case l2l3l1 = "L2L3L1"
    case l3l1l2 = "L3L1L2"

    /// The grid phase index (0…2) that terminal `terminal` (0…2) is wired to.
    public func gridPhase(ofTerminal terminal: Int) -> Int {
        switch self {
        case .l1l2l3: terminal % 3
        case .l2l3l1: (terminal + 1) % 3
        case .l3l1l2: (terminal + 2) % 3
        }
    }

    /// Re-indexes currents measured on the charger's terminals by grid phase.
    public func toGrid(_ terminals: PhaseCurrents) -> PhaseCurrents {
        var grid = PhaseCurrents.zero
        for t in 0..<3 { grid[gridPhase(ofTerminal: t)] = terminals[t] }
        return grid
    }

    /// 1 on each grid phase a car charging on `phases` terminals (1, 2 or 3) loads.
    public func gridMask(phases: Int) -> PhaseCurrents {
        var mask = PhaseCurrents.zero
        for t in 0..<max(0, min(phases, 3)) { mask[gridPhase(ofTerminal: t)] = 1 }
        return mask
    }
}
