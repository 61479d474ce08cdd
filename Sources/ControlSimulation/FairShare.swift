import Control
import Foundation
import Plant

/// An independent oracle of the max-min fair allocation (progressive filling), written
/// apart from control's solver so the closed loop can be judged against it.
///
/// Every wanting car rises together; a car stops at its maximum or when a panel phase it
/// loads is full. Minimums are ignored (the oracle says what room there is, not who may
/// start); power limits and the quarter-hour budget are not modelled.
public enum FairShare {
    public struct Car: Sendable {
        /// Panels it loads (its panel and every one above it).
        public var chain: [Int]
        /// 1 on every grid phase it draws on.
        public var mask: PhaseAmperes
        public var maximum: Double
        public init(chain: [Int], mask: PhaseAmperes, maximum: Double) {
            self.chain = chain
            self.mask = mask
            self.maximum = maximum
        }
    }

    /// Per car, the fair current per phase, A, given the room per panel phase (limit − uncontrolled load).
    public static func allocate(cars: [Car], room: [PhaseAmperes]) -> [Double] {
        var x = [Double](repeating: 0, count: cars.count)
        var active = cars.indices.filter { cars[$0].maximum > 0 && cars[$0].mask.sum() > 0 }
        var slack = room
        let eps = 1e-9
        // A car under a panel phase already full gets nothing.
        active.removeAll { c in cars[c].chain.contains { n in (0..<3).contains { cars[c].mask[$0] > 0 && slack[n][$0] <= eps } } }
        while !active.isEmpty {
            var load = [PhaseAmperes](repeating: .zero, count: room.count)
            for c in active { for n in cars[c].chain { load[n] += cars[c].mask } }
            var step = Double.infinity
            for c in active { step = min(step, cars[c].maximum - x[c]) }
            for n in room.indices {
                for p in 0..<3 where load[n][p] > 0 { step = min(step, slack[n][p] / load[n][p]) }
            }
            step = max(0, step)
            for c in active {
                x[c] += step
                for n in cars[c].chain { slack[n] -= cars[c].mask * step }
            }
            active.removeAll { c in
                x[c] >= cars[c].maximum - eps
                    || cars[c].chain.contains { n in (0..<3).contains { cars[c].mask[$0] > 0 && slack[n][$0] <= eps } }
            }
        }
        return x
    }
}
