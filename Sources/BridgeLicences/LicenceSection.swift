import Foundation

/// The site file's `licence:` section (the bridge's; see docs/licences.md).
/// Only the bridge reads it: metering, control, the fail-safes and Home Assistant
/// never look at the licence.
public struct LicenceSection: Decodable, Sendable {
    /// The installed licence (`phasor licence install` writes it). Default `/var/lib/phasor/licence.txt`.
    public var file: String?
    /// Where the high-water mark of trusted time is kept. Default `/var/lib/phasor`.
    public var stateDir: String?
    /// Public keys that may sign licences, by key id, base64 (32 bytes, Ed25519).
    public var trustedKeys: [String: String]?
    /// Source of the machine's serial number. Default `/etc/machine-id`.
    public var machineIdFile: String?
    /// Days before expiry at which to warn. Default 30, 7, 1.
    public var warnDays: [Int]?
    /// What each tier allows (feature names), replacing the built-in table.
    public var tiers: [String: [String]]?

    public init(file: String? = nil, stateDir: String? = nil, trustedKeys: [String: String]? = nil,
                machineIdFile: String? = nil, warnDays: [Int]? = nil, tiers: [String: [String]]? = nil) {
        self.file = file
        self.stateDir = stateDir
        self.trustedKeys = trustedKeys
        self.machineIdFile = machineIdFile
        self.warnDays = warnDays
        self.tiers = tiers
    }

    public static let defaultFile = "/var/lib/phasor/licence.txt"
    public static let defaultStateDir = "/var/lib/phasor"
    public static let defaultMachineIdFile = "/etc/machine-id"
    public static let defaultWarnDays = [30, 7, 1]
}

/// What each tier allows, as data: the free `view` tier and the paid `control` tier
/// of the product; a site file may replace it (`licence.tiers`).
public enum LicenceTiers {
    public static let free = "view"
    public static let defaults: [String: [String]] = [
        "view": ["live_view", "basic_history", "load_balancing", "per_point_balancing", "slider", "own_solar", "updates"],
        "control": ["live_view", "basic_history", "load_balancing", "per_point_balancing", "slider", "own_solar", "updates",
                    "alerts", "central_management", "manual_priorities", "manual_mode", "reports", "detailed_history"],
    ]
}
