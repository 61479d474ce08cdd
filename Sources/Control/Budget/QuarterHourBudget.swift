import Foundation

/// The quarter-hour (Belgian capacity tariff) budget.
///
/// Rules, and why:
/// - Energy, not instant power, is what is billed: the quarter's import energy so
///   far is tracked (from the meter's 1-0:1.4.0 when it sends one, integrated
///   import power otherwise) and the rest of the quarter is budgeted.
/// - Target = max(slider, this month's peak so far, billing floor). The month's
///   peak is paid already, so using it costs nothing; aiming under the billed
///   minimum (2.5 kW) only wastes charging power. A margin is kept below it.
/// - The household's future draw is a smoothed estimate: a kettle's energy is
///   counted in full once used, but two minutes of it do not make control assume
///   it lasts the whole quarter (which would stop a car for nothing).
/// - Cars are steered on the household's instant load (they give way to a kettle
///   at once), but a running car is only stopped when the smoothed load says the
///   quarter would end above the target itself, margin used up: a kettle makes the
///   car slow down, it does not stop it.
/// - Energy saved early in a quarter is spread over at least `planningHorizon`, so
///   it is not spent as a burst the chargers would still draw after the boundary.
public enum QuarterHourBudget {
    public static let quarter: TimeInterval = 900
    static let planningHorizon: TimeInterval = 120

    static func quarterStart(containing date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / quarter).rounded(.down) * quarter)
    }

    static func monthKey(_ date: Date, calendar: Calendar) -> Int {
        let c = calendar.dateComponents([.year, .month], from: date)
        return (c.year ?? 0) * 100 + (c.month ?? 0)
    }

    /// Brings the bookkeeping up to `now` with the root meter's latest sample.
    ///
    /// - Parameters:
    ///   - sample: the root meter's latest sample, `nil` when there is none or it is stale.
    ///   - householdPower: the import not due to charge points, W, when measurable.
    static func advance(
        _ state: BudgetState, sample: MeterSample?, householdPower: Double?, now: Date, model: SiteModel
    ) -> BudgetState {
        var s = state
        if s.quarterStart == nil {
            s.quarterStart = quarterStart(containing: now)
            s.month = monthKey(now, calendar: model.calendar)
            s.integratedUntil = now
        }
        integrate(&s, until: now, model: model)

        if let sample, sample.time > (s.lastSampleTime ?? .distantPast) {
            let importPower = max(0, sample.power ?? 0)
            if s.heldImportPower == nil, let start = s.quarterStart {
                // Started mid-quarter without history: assume the quarter so far ran at this power.
                s.quarterEnergy = importPower * max(0, now.timeIntervalSince(start))
            }
            s.heldImportPower = importPower
            s.lastSampleTime = sample.time
            acceptMeterAverage(&s, sample: sample, model: model)
            if let meterPeak = sample.monthPeak, let monthStart = monthStart(of: now, calendar: model.calendar),
                sample.time.timeIntervalSince(monthStart) >= quarter
            {
                // 1-0:1.6.0 restores the peak after a restart; ignored in the month's first
                // quarter, where the meter may still show last month's.
                s.monthPeak = max(s.monthPeak, meterPeak)
            }
        }
        if let householdPower {
            let alpha: Double
            if let previous = s.householdEstimate, model.budget.loadSmoothingSeconds > 0 {
                let dt = max(0, now.timeIntervalSince(s.lastHouseholdUpdate ?? now))
                alpha = 1 - exp(-dt / model.budget.loadSmoothingSeconds)
                s.householdEstimate = previous + alpha * (householdPower - previous)
            } else {
                s.householdEstimate = householdPower
            }
            s.lastHouseholdUpdate = now
        }
        return s
    }

    /// Integrates the held import power up to `until`, closing every quarter crossed.
    private static func integrate(_ s: inout BudgetState, until: Date, model: SiteModel) {
        guard var from = s.integratedUntil, var start = s.quarterStart, until > from else { return }
        while true {
            let end = start.addingTimeInterval(quarter)
            let stop = min(until, end)
            if stop > from { s.quarterEnergy += (s.heldImportPower ?? 0) * stop.timeIntervalSince(from) }
            from = stop
            guard until >= end else { break }
            close(&s, quarterStartingAt: start, model: model)
            start = end
            s.quarterStart = start
        }
        s.integratedUntil = until
    }

    /// Ends a quarter: its average may be the month's new peak; a new month starts from zero.
    private static func close(_ s: inout BudgetState, quarterStartingAt start: Date, model: SiteModel) {
        let average = s.quarterEnergy / quarter
        let quarterMonth = monthKey(start, calendar: model.calendar)
        if s.month != quarterMonth {
            s.month = quarterMonth
            s.monthPeak = 0
        }
        s.monthPeak = max(s.monthPeak, average)
        s.lastQuarterAverage = average
        s.quarterEnergy = 0
        s.source = .integrated
        s.previousQuarterMeterAverage = s.lastMeterAverage
        s.lastMeterAverage = nil
        let next = start.addingTimeInterval(quarter)
        let nextMonth = monthKey(next, calendar: model.calendar)
        if nextMonth != s.month {
            // Month boundary: the capacity tariff counts each month on its own.
            s.month = nextMonth
            s.monthPeak = 0
        }
    }

    /// Uses 1-0:1.4.0 as the authoritative energy so far, except values that cannot be
    /// true: the meter repeats the previous quarter's value for about ten seconds after
    /// the boundary. A value is refused when the main connection could not have imported
    /// that much since the boundary, or when, in the first seconds, it matches the
    /// previous quarter's last value.
    private static func acceptMeterAverage(_ s: inout BudgetState, sample: MeterSample, model: SiteModel) {
        guard let average = sample.quarterHourAverage, let start = s.quarterStart, sample.time >= start else { return }
        let elapsed = sample.time.timeIntervalSince(start)
        let connectionMaximum = (model.nodes[0].limit * model.voltage).sum()
        let possible = connectionMaximum * (elapsed + 1)
        if average * quarter > possible { return }
        if elapsed < model.budget.quarterAverageRepeatSeconds, s.lastMeterAverage == nil,
            let previous = s.previousQuarterMeterAverage, previous > 0, abs(average - previous) <= 0.05 * previous
        {
            return
        }
        s.lastMeterAverage = average
        s.quarterEnergy = average * quarter
        s.source = .meterAverage
    }

    private static func monthStart(of date: Date, calendar: Calendar) -> Date? {
        calendar.date(from: calendar.dateComponents([.year, .month], from: date))
    }

    /// The figures for this cycle, before the charge points' share is known.
    static func figures(
        _ s: BudgetState, settings: ControlSettings, householdNow: Double?, now: Date, model: SiteModel,
        meterFresh: Bool
    ) -> BudgetFigures {
        let start = s.quarterStart ?? quarterStart(containing: now)
        let end = start.addingTimeInterval(quarter)
        let slider = settings.sliderKW * 1000
        let followed = model.budget.followMonthPeak ? s.monthPeak : 0
        let target = max(slider, followed, model.budget.billingFloorKW * 1000)
        let aim = max(0, target - model.budget.marginKW * 1000)
        let remaining = max(end.timeIntervalSince(now), 1)
        let household = s.householdEstimate ?? householdNow ?? 0
        return BudgetFigures(
            sliderW: slider, targetW: target, aimW: aim, monthPeakW: s.monthPeak, quarterStart: start, quarterEnd: end,
            energySoFarWh: s.quarterEnergy / 3600,
            allowedRestW: allowedAverage(aiming: aim, energySoFar: s.quarterEnergy, remaining: remaining),
            toleratedRestW: allowedAverage(aiming: target, energySoFar: s.quarterEnergy, remaining: remaining),
            householdW: householdNow ?? household, householdEstimateW: household,
            forecastW: (s.quarterEnergy + max(0, household) * remaining) / quarter, source: s.source,
            meterFresh: meterFresh)
    }

    /// Average import allowed for the rest of the quarter to end at `aim`.
    ///
    /// Energy saved earlier (a quiet start of the quarter) is spread over at least
    /// `planningHorizon`, so it is not spent as a burst in the last seconds that the
    /// chargers would still be drawing after the boundary. An overrun is corrected
    /// over the true remaining time: that is what keeps the quarter under the target.
    static func allowedAverage(aiming aim: Double, energySoFar: Double, remaining: TimeInterval) -> Double {
        let saved = aim * quarter - energySoFar - aim * remaining
        return aim + saved / (saved > 0 ? max(remaining, planningHorizon) : remaining)
    }

    /// The end-of-quarter average if `importPower` holds until the boundary.
    static func forecast(_ f: BudgetFigures, energySoFar: Double, importPower: Double, now: Date) -> Double {
        (energySoFar + max(0, importPower) * max(0, f.quarterEnd.timeIntervalSince(now))) / quarter
    }
}
