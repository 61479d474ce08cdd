import Foundation
import PhasorCore

/// The validated site, flattened for the per-cycle solver: nodes in pre-order
/// (root first, a parent always before its children), charge points in
/// configuration order (which is the "from point 1 upward" order of the spec).
public struct SiteModel: Sendable {
    public struct Node: Sendable, Equatable {
        public var id: String
        /// 1 = main connection, 2–3 = sub-panels.
        public var level: Int
        public var parent: Int?
        public var limit: PhaseCurrents
        public var powerLimitW: Double?
        public var meter: MeterSource
        public var meterTimeout: TimeInterval
        /// Every charge point in this node's subtree (indices into `chargePoints`).
        public var chargePoints: [Int]
    }

    public struct ChargePoint: Sendable, Equatable {
        public var id: String
        /// Device id whose charger state is read.
        public var device: String
        /// Position in the configuration: the tie-breaker after priority.
        public var order: Int
        /// The panel it hangs from.
        public var node: Int
        /// The panel it hangs from and every panel above it, up to the root.
        public var ancestors: [Int]
        public var rotation: PhaseRotation
        public var phases: Int
        public var phaseSwitching: Bool
        public var minCurrent: Double
        public var startBuffer: Double
        public var maxCurrent: Double
        public var safeCurrent: Double
        public var mode: ChargeMode
        public var manualCurrent: Double?
        public var priority: Int
        public var chargerTimeout: TimeInterval
        public var currentStep: Double
    }

    public var nodes: [Node]
    public var chargePoints: [ChargePoint]
    public var voltage: Double
    public var budget: BudgetConfig
    public var timing: TimingConfig
    /// Calendar in the budget's time zone, for month boundaries.
    public var calendar: Calendar
    /// The house loads beside the cars (`HousePlanner`); nil when the site file has none.
    public var house: HouseConfig?
    public var preset: Preset

    /// Validates and compiles a configuration; the error names the first problem's path.
    public init(config: SiteConfig) throws(SiteConfigError) {
        if let problem = SiteConfigValidation.firstProblem(in: config) { throw problem }
        voltage = config.voltage
        budget = config.budget
        timing = config.timing
        house = config.house
        preset = config.preset
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: config.budget.timeZone) ?? TimeZone(secondsFromGMT: 0)!
        self.calendar = calendar
        nodes = []
        chargePoints = []
        add(config.site, parent: nil, level: 1, ancestors: [], preset: config.preset)
    }

    /// Loads `control`-style YAML strictly (file, line and field in every error).
    public static func load(yaml: String, file: String = "<string>") throws -> SiteModel {
        let config = try ConfigLoader.decode(SiteConfig.self, yaml: yaml, file: file)
        return try SiteModel(config: config)
    }

    private mutating func add(_ panel: PanelConfig, parent: Int?, level: Int, ancestors: [Int], preset: Preset) {
        let index = nodes.count
        nodes.append(
            Node(
                id: panel.id, level: level, parent: parent, limit: panel.currentLimit.amperes,
                powerLimitW: panel.powerLimitKW.map { $0 * 1000 }, meter: panel.meter,
                meterTimeout: panel.meterTimeoutSeconds, chargePoints: []))
        let chain = [index] + ancestors
        for cp in panel.chargePoints {
            let cpIndex = chargePoints.count
            chargePoints.append(
                ChargePoint(
                    id: cp.id, device: cp.device ?? cp.id, order: cpIndex, node: index, ancestors: chain,
                    rotation: cp.rotation, phases: cp.phases, phaseSwitching: cp.phaseSwitching,
                    minCurrent: cp.minCurrent, startBuffer: cp.startBufferA ?? preset.defaultStartBuffer,
                    maxCurrent: cp.maxCurrent, safeCurrent: cp.safeCurrent, mode: cp.mode,
                    manualCurrent: cp.manualCurrent, priority: cp.priority, chargerTimeout: cp.chargerTimeoutSeconds,
                    currentStep: cp.currentStep))
            for n in chain { nodes[n].chargePoints.append(cpIndex) }
        }
        // A panel's own charge points are numbered before those of its sub-panels.
        for child in panel.panels { add(child, parent: index, level: level + 1, ancestors: chain, preset: preset) }
    }

    public func chargePointIndex(id: String) -> Int? { chargePoints.firstIndex { $0.id == id } }
    public func nodeIndex(id: String) -> Int? { nodes.firstIndex { $0.id == id } }
}
