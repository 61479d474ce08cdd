import Foundation

/// A house load control just switched on (a relay, a heat-pump step up) that the meters
/// may not show yet: the cars' cycle counts it until a reading taken after it applied.
public struct PendingLoad: Sendable, Equatable, Codable {
    /// The panel it hangs from (nil = the main connection).
    public var panel: String?
    public var currents: PhaseCurrents
    /// When control switched it on.
    public var since: Date

    public init(panel: String?, currents: PhaseCurrents, since: Date) {
        self.panel = panel
        self.currents = currents
        self.since = since
    }
}

/// Break before make for the house loads: the room a load just switched on takes is not
/// handed to the cars before a meter shows it. Every real meter of its panel and the
/// panels above whose latest reading was taken before `since + settle` reads as if the
/// load were already on. Only ever more load than measured, never less.
public enum PendingLoads {
    /// How long after a switch a reading may still miss it, s (the relay write, the
    /// contactor, a meter averaging over its period).
    public static let settle: TimeInterval = 2
    /// A pending load is forgotten after this, s, whatever the meters say.
    public static let maxAge: TimeInterval = 30

    public static func apply(_ measurements: Measurements, model: SiteModel, pending: [PendingLoad]) -> Measurements {
        guard !pending.isEmpty else { return measurements }
        var out = measurements
        for load in pending {
            var n = load.panel.flatMap { id in model.nodes.firstIndex { $0.id == id } } ?? 0
            while true {
                if case .device(let id) = model.nodes[n].meter, var sample = out.meters[id],
                    sample.time < load.since + settle
                {
                    sample.currents = sample.currents.map { $0 + load.currents }
                    sample.power = sample.power.map { $0 + (load.currents * model.voltage).sum() }
                    out.meters[id] = sample
                }
                guard let parent = model.nodes[n].parent else { break }
                n = parent
            }
        }
        return out
    }

    /// The loads still worth counting at `now`.
    public static func prune(_ pending: [PendingLoad], now: Date) -> [PendingLoad] {
        pending.filter { now.timeIntervalSince($0.since) < maxAge }
    }
}
