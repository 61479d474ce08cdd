import Foundation

/// Decides when a meter is lost and when it is back: lost after `periods` nominal
/// telegram periods without a valid telegram (the period learnt from the last
/// telegram: 1 s for DSMR 5 and e-MUCS, 10 s for DSMR 4 and 2.2/3), back with the
/// next valid telegram. Pure: the caller passes the time.
struct MeterLiveness: Sendable {
    enum State: String, Sendable { case online, offline }

    let periods: Double
    private(set) var period: Duration
    private(set) var state: State?
    private var reference: Date

    init(periods: Double, defaultPeriod: Duration, startedAt: Date) {
        self.periods = periods
        self.period = defaultPeriod
        self.reference = startedAt
    }

    /// Seconds without a valid telegram after which the meter counts as lost.
    var timeout: TimeInterval {
        let c = period.components
        return periods * (Double(c.seconds) + Double(c.attoseconds) * 1e-18)
    }

    /// A valid telegram came; returns the new state when it changed.
    mutating func telegram(at now: Date, period: Duration) -> State? {
        self.period = period
        reference = now
        return transition(to: .online)
    }

    /// Returns `.offline` when the meter just got lost (also when it never sent anything).
    mutating func check(at now: Date) -> State? {
        // The wall clock stepped back past the last telegram: the silence counts from now,
        // not from a moment in the future (the meter would never be lost until then).
        if now < reference { reference = now }
        guard state != .offline, now.timeIntervalSince(reference) >= timeout else { return nil }
        return transition(to: .offline)
    }

    private mutating func transition(to new: State) -> State? {
        guard state != new else { return nil }
        state = new
        return new
    }
}
