import Foundation

/// The capacity-tariff bookkeeping carried from cycle to cycle.
public struct BudgetState: Sendable, Equatable, Codable {
    /// Start of the fixed quarter hour being tracked (:00, :15, :30, :45).
    public var quarterStart: Date?
    /// Import energy of this quarter so far, W·s.
    public var quarterEnergy: Double = 0
    /// Where `quarterEnergy` last came from.
    public var source: EnergySource = .integrated
    /// Import power held since the last meter sample, W (integrated until the next one).
    public var heldImportPower: Double?
    /// Time up to which `quarterEnergy` has been integrated.
    public var integratedUntil: Date?
    /// Time of the last meter sample used.
    public var lastSampleTime: Date?
    /// Last accepted 1-0:1.4.0 value of this quarter, W.
    public var lastMeterAverage: Double?
    /// Last 1-0:1.4.0 value of the previous quarter, W: the value the meter repeats after the boundary.
    public var previousQuarterMeterAverage: Double?
    /// Month being tracked, as year × 100 + month in the tariff's time zone.
    public var month: Int?
    /// Highest closed quarter-hour average import of this month, W.
    public var monthPeak: Double = 0
    /// Average of the last closed quarter, W.
    public var lastQuarterAverage: Double?
    /// Smoothed uncontrolled import (household minus PV, without the charge points), W.
    public var householdEstimate: Double?
    /// When `householdEstimate` was last updated.
    public var lastHouseholdUpdate: Date?

    public init() {}

    public enum EnergySource: String, Sendable, Equatable, Codable {
        /// The meter's own running quarter-hour average (1-0:1.4.0).
        case meterAverage = "meter_average"
        /// Import power integrated over time (meters without 1.4.0, or between telegrams).
        case integrated
    }
}

/// The budget figures for the state topic and for the solver.
public struct BudgetFigures: Sendable, Equatable {
    public var sliderW: Double
    /// What the quarter may average: max(slider, month peak if followed, billing floor), W.
    public var targetW: Double
    /// Target minus the margin: what control actually aims at, W.
    public var aimW: Double
    public var monthPeakW: Double
    public var quarterStart: Date
    public var quarterEnd: Date
    /// Import energy of the quarter so far, Wh.
    public var energySoFarWh: Double
    /// Average import power allowed for the rest of the quarter to end at the aim, W.
    public var allowedRestW: Double
    /// Average import for the rest of the quarter that still ends at the target (margin
    /// used up): running cars are only stopped beyond this, W.
    public var toleratedRestW: Double
    /// Household import now (without charge points; negative = export), W.
    public var householdW: Double
    /// Smoothed household import, W: the planning estimate for the rest of the quarter.
    public var householdEstimateW: Double
    /// Expected end-of-quarter average if the decided setpoints hold, W.
    public var forecastW: Double
    public var source: BudgetState.EnergySource
    /// The root meter is fresh; without it the whole site runs on safe currents.
    public var meterFresh: Bool
}
