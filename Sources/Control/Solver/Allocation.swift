/// The three ways a car is served, in the order they are served.
enum Stage: Int, Comparable {
    /// A fixed current the user asked for; served first, still under every limit.
    case manual
    /// An even share of what is left.
    case automatic
    /// Only what would otherwise be exported.
    case solar

    static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
}

/// One car the solver may give current to.
struct Candidate {
    let chargePoint: Int
    let stage: Stage
    /// Configuration order and priority, for admission order and tie-breaking.
    let rank: Int
    /// The operator's priority (higher first); cars take turns only with equal or lower ones.
    let priority: Int
    var phases: Int
    /// 1 on each grid phase the car loads (phase rotation applied).
    var mask: PhaseCurrents
    /// The mask on one phase (terminal 1), for 1p/3p switching.
    let onePhaseMask: PhaseCurrents
    let threePhaseMask: PhaseCurrents
    /// Lowest current while running (the car's minimum), A.
    var minimum: Double
    /// Minimum plus start buffer: what must fit before the car is started, A.
    var startMinimum: Double
    /// Highest current (charger maximum, or the manual current), A.
    var maximum: Double
    /// Current given, A (0 = not admitted).
    var current: Double = 0
    /// The limit that stopped this car rising during water-filling.
    var boundBy: Limit?
    /// Its charger reports it draws nothing (`TimingConfig.idleSeconds`): its maximum is its
    /// minimum, and that minimum goes to any car that needs the room.
    var notDrawing = false
}

/// One linear constraint: Σ coefficient × current ≤ capacity.
struct Constraint {
    let limit: Limit
    /// Capacity left for the candidates, after uncontrolled and fixed loads: A for a
    /// breaker phase, W for power limits, the budget and the surplus.
    var capacity: Double
    /// Grid phase for a breaker constraint; `nil` for a power constraint (coefficient = phases × V).
    let phase: Int?
    /// Candidate indices this constraint applies to.
    var members: [Int]
    /// For an economic limit, a looser capacity below which running cars are not
    /// stopped (steering aims lower than stopping, so a short spike slows a car down
    /// without stopping it). `nil` = the same as `capacity`.
    var stopCapacity: Double? = nil
}

/// The allocation problem of one cycle, and the operations admission and filling need.
struct Allocation {
    static let tolerance = 1e-7

    var candidates: [Candidate]
    var constraints: [Constraint]
    let voltage: Double

    func coefficient(_ c: Constraint, _ k: Int) -> Double {
        if let phase = c.phase { return candidates[k].mask[phase] }
        return Double(candidates[k].phases) * voltage
    }

    func load(_ c: Constraint) -> Double {
        var sum = 0.0
        for k in c.members where candidates[k].current > 0 { sum += coefficient(c, k) * candidates[k].current }
        return sum
    }

    /// The first constraint (hard ones first) that `include` selects and the current allocation exceeds.
    func violation(_ include: (Limit) -> Bool) -> Limit? {
        var soft: Limit?
        for c in constraints where include(c.limit) && load(c) > c.capacity + Self.tolerance {
            if c.limit.protectsInstallation { return c.limit }
            if soft == nil { soft = c.limit }
        }
        return soft
    }

    /// Would the candidate fit at `current` with everyone else as they are? Only the limits
    /// the candidate loads are asked: a phase the house alone keeps over its limit (a load on
    /// L2) does not keep a car on L1 from charging, nor stop one running there. (A car the
    /// cautious share moves onto a phase with more current there is sequenced like a start:
    /// `Sequencing` measures that phase's room first, property seed 1676818262201710555.)
    mutating func tryAdmit(_ k: Int, at current: Double, under include: (Limit) -> Bool) -> Limit? {
        let previous = candidates[k].current
        candidates[k].current = current
        var blocked: Limit?
        for c in constraints where include(c.limit) && c.members.contains(k) && coefficient(c, k) > 0
            && load(c) > c.capacity + Self.tolerance
        {
            if c.limit.protectsInstallation {
                blocked = c.limit
                break
            }
            if blocked == nil { blocked = c.limit }
        }
        if blocked != nil { candidates[k].current = previous }
        return blocked
    }
}
