/// Max-min fair filling ("water-filling") under every constraint at once.
///
/// All admitted cars of one stage rise together at the same current; a car stops
/// rising when it reaches its maximum or when a constraint it takes part in is
/// full; the others go on. The result gives every car the same current unless a
/// limit or its maximum holds it lower, which is exactly "surplus to the lowest
/// current, shortage from the highest", and a three-phase car gets three times
/// the power of a single-phase one at equal current. Cars start from their
/// current value (their minimum), so the water level only lifts cars below it.
///
/// Event-driven, not iterative: each step jumps straight to the next event (a
/// constraint filling up, a car reaching its maximum, the level reaching a car
/// that started higher), so the result is exact and a cycle costs microseconds.
extension Allocation {
    mutating func fill(_ stage: Stage) {
        var active: [Int] = []
        for k in candidates.indices where candidates[k].stage == stage && candidates[k].current > 0 {
            if candidates[k].current < candidates[k].maximum - Self.tolerance {
                active.append(k)
            } else {
                candidates[k].boundBy = nil
            }
        }
        guard var level = active.map({ candidates[$0].current }).min() else { return }
        var rising = Array(repeating: false, count: candidates.count)
        // Every pass fixes a car or reaches an event; the bound only guards against
        // floating-point steps of zero length.
        var passesLeft = 4 * (candidates.count + constraints.count) + 8

        while !active.isEmpty && passesLeft > 0 {
            passesLeft -= 1
            for k in active { rising[k] = candidates[k].current <= level + Self.tolerance }

            var step = Double.infinity
            var full: [Int] = []
            for (ci, c) in constraints.enumerated() {
                var rate = 0.0
                for k in c.members where rising[k] { rate += coefficient(c, k) }
                guard rate > 0 else { continue }
                let slack = c.capacity - load(c)
                if slack <= Self.tolerance * max(1, abs(c.capacity)) {
                    full.append(ci)
                } else {
                    step = min(step, slack / rate)
                }
            }
            if !full.isEmpty {
                for ci in full {
                    // Only the cars that load this constraint stop (a single-phase car on L2
                    // keeps rising when L1 is full).
                    for k in constraints[ci].members where rising[k] && coefficient(constraints[ci], k) > 0 {
                        candidates[k].boundBy = constraints[ci].limit
                        rising[k] = false
                    }
                }
                active.removeAll { candidates[$0].boundBy != nil }
                continue
            }
            for k in active {
                if rising[k] {
                    step = min(step, candidates[k].maximum - level)
                } else {
                    step = min(step, candidates[k].current - level)
                }
            }
            level += step
            for k in active where rising[k] {
                candidates[k].current = min(level, candidates[k].maximum)
            }
            active.removeAll { candidates[$0].current >= candidates[$0].maximum - Self.tolerance }
            for k in rising.indices { rising[k] = false }
        }
    }
}
