import Foundation

/// How often control decides, and the timeouts the other services derive from it.
/// One place, so the gateway's patience follows control's rate.
public enum DecisionTiming {
    /// Control decides on every main-meter reading and at least this often (s).
    public static let interval: TimeInterval = 1
    /// Missed decisions the gateway tolerates before it falls back to the safe current.
    public static let missedDecisionsBeforeFallback = 5
    /// Without a setpoint for this long the gateway falls back (unless the site file
    /// sets `setpoint_timeout_s`): a hung control — connected, not deciding — does
    /// not hold the chargers at its last current.
    public static var setpointTimeout: TimeInterval { interval * Double(missedDecisionsBeforeFallback) }
}
