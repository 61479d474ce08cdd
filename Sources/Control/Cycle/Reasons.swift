import Foundation
import PhasorCore

/// A constraint that bounds a charge point's current.
public enum Limit: Sendable, Equatable, Hashable {
    /// A panel's breaker on one phase (phase 1…3).
    case breaker(node: String, phase: Int)
    /// A panel's total power limit.
    case power(node: String)
    /// The quarter-hour budget (slider / month peak).
    case budget
    /// Solar-only mode: what would otherwise be exported.
    case surplus

    public var description: String {
        switch self {
        case .breaker(let node, let phase): "the L\(phase) limit of '\(node)'"
        case .power(let node): "the power limit of '\(node)'"
        case .budget: "the quarter-hour budget"
        case .surplus: "the solar surplus"
        }
    }

    /// Breakers and power limits protect the installation; the budget and the surplus are economic.
    public var protectsInstallation: Bool {
        switch self {
        case .breaker, .power: true
        case .budget, .surplus: false
        }
    }
}

/// Why a charge point got the current it got, for the setpoint topic and the logs.
public enum SetpointReason: Sendable, Equatable {
    case noCar
    case modeOff
    /// The charger does not answer: it runs on its safe current, which is budgeted.
    case chargerOffline
    /// The charger does not answer and its safe current does not fit under a limit above it
    /// (the house as read plus every offline charger's safe current): it is asked for 0 should
    /// it hear us, and its safe current stays budgeted should it not.
    case chargerOfflineNoRoom
    /// A meter above the charge point is stale: safe current, budgeted.
    case meterStale(node: String)
    /// Shared evenly; the share is set by this limit.
    case limitedBy(Limit)
    /// The car or charger maximum (or the manual current) is reached.
    case atMaximum
    /// Not started: the minimum (plus start buffer) does not fit under this limit.
    case waitingForPower(Limit)
    /// Stopped because even the minimum no longer fits under this limit.
    case stopped(Limit)
    /// Not restarted yet: the minimum pause after the last stop runs until then.
    case pausing(until: Date)
    /// Would be stopped for this economic limit, but the minimum run time runs until then.
    case keptAtMinimum(Limit, until: Date)
    /// An increase smaller than the hysteresis was not worth a change.
    case holding
    /// An increase waits until the cars lowered in the same decision are seen lower (break before make).
    case waitingForOthers
    /// An increase waits for a reading taken after every car below followed its last setpoint.
    case settling
    /// An increase waits for the minimum interval between two increases of one car.
    case spacingIncreases(until: Date)
    /// Stopped so that a car that waited gets its turn.
    case givingWay
    /// The charger switches phases; it restarts on the new phase count.
    case switchingPhases(to: Int)
    /// The car drew nothing for `idle_seconds` (full, or its own timer): kept at its minimum,
    /// or paused when another car needs that room.
    case notDrawing(paused: Bool)

    public var description: String {
        switch self {
        case .noCar: "no car connected"
        case .modeOff: "charge point is switched off"
        case .chargerOffline: "charger offline: budgeting its safe current"
        case .chargerOfflineNoRoom: "charger offline: its safe current does not fit, asking it for 0 (safe current budgeted)"
        case .meterStale(let node): "meter of '\(node)' is stale: safe current"
        case .limitedBy(let limit): "shared evenly under \(limit.description)"
        case .atMaximum: "at its maximum current"
        case .waitingForPower(let limit): "waiting: the minimum does not fit under \(limit.description)"
        case .stopped(let limit): "stopped: the minimum no longer fits under \(limit.description)"
        case .pausing(let until): "paused until \(Self.time(until)) (minimum pause)"
        case .keptAtMinimum(let limit, let until):
            "kept at minimum despite \(limit.description) until \(Self.time(until)) (minimum run time)"
        case .holding: "holding: increase below the hysteresis"
        case .waitingForOthers: "holding: waiting for the cars lowered to follow before raising"
        case .settling: "holding: waiting for a reading taken after the cars followed"
        case .spacingIncreases(let until): "holding: next increase not before \(Self.time(until))"
        case .givingWay: "stopped: giving way to a car that waited (taking turns)"
        case .switchingPhases(let phases): "switching to \(phases) phase\(phases == 1 ? "" : "s")"
        case .notDrawing(let paused):
            paused ? "paused: the car draws nothing, its minimum went to cars that need it"
                : "kept at its minimum: the car draws nothing (full?)"
        }
    }

    private static func time(_ date: Date) -> String { ISO8601.format(date, utcOffsetSeconds: 0) }
}
