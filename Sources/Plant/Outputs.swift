import Foundation
import PhasorCore

/// What a charger says about itself at one sampling instant.
public struct ChargerReport: Sendable, Equatable {
    public var device: String
    /// The sampling instant.
    public var time: Date
    /// Disconnected, connected (plugged, not drawing: paused or full) or charging.
    public var status: ChargePointStatus
    /// What the car drew on terminals 1-2-3 at the sampling instant, A.
    public var currents: PhaseAmperes
    /// The limit the charger applied at the sampling instant, A.
    public var currentLimit: Double

    public init(device: String, time: Date, status: ChargePointStatus, currents: PhaseAmperes, currentLimit: Double) {
        self.device = device
        self.time = time
        self.status = status
        self.currents = currents
        self.currentLimit = currentLimit
    }

    /// The gateway's `…/chargepoint/<id>/state` payload for this report (for the end-to-end simulators).
    public func statePayload(spec: ChargerSpec, minCurrent: Double = 6, maxCurrent: Double = 32) -> ChargePointStatePayload {
        ChargePointStatePayload(
            id: device, time: time, online: true, status: status, currents: [currents[0], currents[1], currents[2]],
            currentLimit: currentLimit, minCurrent: minCurrent, maxCurrent: maxCurrent, safeCurrent: spec.safeCurrent,
            phases: spec.phases)
    }
}

/// One output of the plant, delivered at `time` (sampling instant + delay).
public enum PlantOutput: Sendable, Equatable {
    /// A meter reading in the shared vocabulary: `current_l1…3` (magnitudes, at the meter's
    /// resolution), `power_import_l1…3` / `power_export_l1…3` and the totals (W), and
    /// `power_import_quarter_hour_average` (W) when the meter sends 1-0:1.4.0.
    case meter(Reading)
    case charger(ChargerReport)
}

/// An output with the time it reaches the gateway.
public struct Delivery: Sendable, Equatable {
    public var time: Date
    public var output: PlantOutput
}

/// One contiguous stretch of a panel phase above its limit.
public struct OverloadEpisode: Sendable, Equatable {
    public var panel: Int
    /// Grid phase 0…2.
    public var phase: Int
    public var start: Date
    public var end: Date
    /// Highest excess over the limit, A.
    public var peak: Double
    public var cause: OverloadCause
    /// Not caused by a decision: a rise of uncontrolled load, or that load alone over the limit.
    public var explained: Bool { cause != .unexplained }
    public var duration: TimeInterval { end.timeIntervalSince(start) }
}

/// Why a panel phase is over its limit, judged at the start of an episode.
public enum OverloadCause: Sendable, Equatable {
    /// The excess was no larger than the rise of uncontrolled load (house, PV) below the
    /// panel within the plant's explain window: a house step the controller must answer.
    case uncontrolledRise
    /// Uncontrolled load alone is above the limit: no controller can clear it (episodes of
    /// this cause are split from the others).
    case uncontrolledAlone
    /// Neither: what the cars were allowed to draw caused it.
    case unexplained
}

/// Seconds over each limit, split by cause, and the episodes.
public struct OverloadLedger: Sendable, Equatable {
    /// Per panel, per grid phase: seconds above the limit.
    public var secondsOver: [PhaseAmperes]
    /// Per panel, per grid phase: highest excess seen, A.
    public var peakExcess: [PhaseAmperes]
    /// Seconds (summed over panel phases) whose excess was not explained by a rise of uncontrolled load.
    public var unexplainedSeconds: Double = 0
    /// Seconds whose excess was explained by such a rise.
    public var explainedSeconds: Double = 0
    /// Seconds when uncontrolled load alone was above the limit.
    public var uncontrolledAloneSeconds: Double = 0
    /// Finished episodes (and, through `allEpisodes`, the running ones).
    public var episodes: [OverloadEpisode] = []
    var open: [Int: OverloadEpisode] = [:]

    init(panels: Int) {
        secondsOver = Array(repeating: .zero, count: panels)
        peakExcess = Array(repeating: .zero, count: panels)
    }

    /// Finished and running episodes, by start time.
    public var allEpisodes: [OverloadEpisode] { (episodes + open.values).sorted { $0.start < $1.start } }
    public var totalSecondsOver: Double { secondsOver.reduce(0) { $0 + $1.sum() } }
    public var worstExcess: Double { peakExcess.reduce(0) { max($0, $1.max()) } }

    mutating func record(
        panel: Int, phase: Int, from: Date, to: Date, excess: Double, rise: Double, uncontrolledExcess: Double,
        tolerance: Double
    ) {
        let key = panel * 3 + phase
        guard excess > tolerance else {
            if let e = open.removeValue(forKey: key) { episodes.append(e) }
            return
        }
        let dt = to.timeIntervalSince(from)
        secondsOver[panel][phase] += dt
        peakExcess[panel][phase] = max(peakExcess[panel][phase], excess)
        let cause: OverloadCause =
            uncontrolledExcess > tolerance ? .uncontrolledAlone : (excess <= rise + tolerance ? .uncontrolledRise : .unexplained)
        switch cause {
        case .uncontrolledAlone: uncontrolledAloneSeconds += dt
        case .uncontrolledRise: explainedSeconds += dt
        case .unexplained: unexplainedSeconds += dt
        }
        // Uncontrolled load alone over the limit splits an episode: before and after it, the controller's share.
        if var e = open[key], (e.cause == .uncontrolledAlone) == (cause == .uncontrolledAlone) {
            e.end = to
            e.peak = max(e.peak, excess)
            open[key] = e
        } else {
            if let e = open.removeValue(forKey: key) { episodes.append(e) }
            open[key] = OverloadEpisode(panel: panel, phase: phase, start: from, end: to, peak: excess, cause: cause)
        }
    }
}
