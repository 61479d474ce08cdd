import Foundation

/// What one charge point should do until the next cycle.
public struct Setpoint: Sendable, Equatable {
    public var chargePoint: String
    /// Current limit per phase, A; 0 = pause.
    public var current: Double
    /// Phases to charge on (matters for 1p/3p switching chargers).
    public var phases: Int
    public var reason: SetpointReason
    /// Power at nominal voltage, W.
    public var power: Double
    /// One line for humans: "cp1: 10.5 A × 3 (shared evenly under the L2 limit of 'main')".
    public var summary: String {
        let amps = current.formatted(.number.precision(.fractionLength(0...1)))
        return "\(chargePoint): \(amps) A × \(phases) (\(reason.description))"
    }
}

/// A panel's figures after the decision, for the state topic and for checks.
public struct NodeFigures: Sendable, Equatable {
    public var node: String
    public var meterFresh: Bool
    public var limit: PhaseCurrents
    /// Load control does not steer (meter − charge points), A per grid phase.
    public var uncontrolled: PhaseCurrents
    /// Charge points below as decided (safe currents included), A per grid phase.
    public var chargePoints: PhaseCurrents
    /// Expected total per phase once the setpoints apply.
    public var expected: PhaseCurrents { uncontrolled + chargePoints }
}

/// The output of one control cycle.
public struct Decision: Sendable, Equatable {
    /// In configuration order.
    public var setpoints: [Setpoint]
    public var budget: BudgetFigures
    /// In tree pre-order, root first.
    public var nodes: [NodeFigures]

    public func setpoint(_ chargePoint: String) -> Setpoint? { setpoints.first { $0.chargePoint == chargePoint } }
}
