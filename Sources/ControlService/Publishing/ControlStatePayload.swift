import Control
import Foundation
import PhasorCore

/// `…/control/state` (retained, schemas/control-state.schema.json): the slider, the
/// quarter-hour budget, the month peak, stale meters and what every charge point
/// does and why. Powers in kW like the slider; currents in A.
enum ControlStatePayload {
    static func encode(engine: ControlEngine, decision: Decision, now: Date) -> [UInt8] {
        let b = decision.budget
        var w = JSONWriter(capacity: 1024 + 320 * decision.setpoints.count)
        w.beginObject()
        w.key("time"); w.value(ISO8601.format(now, utcOffsetSeconds: 0))
        w.key("sequence"); w.value(Int(clamping: engine.sequence))
        w.key("slider_kw"); w.value(engine.state.settings.sliderKW)
        w.key("budget")
        w.beginObject()
        w.key("target_kw"); w.value(kW(b.targetW))
        w.key("aim_kw"); w.value(kW(b.aimW))
        w.key("quarter_start"); w.value(ISO8601.format(b.quarterStart, utcOffsetSeconds: 0))
        w.key("quarter_end"); w.value(ISO8601.format(b.quarterEnd, utcOffsetSeconds: 0))
        w.key("energy_kwh"); w.value(rounded(b.energySoFarWh / 1000))
        w.key("allowed_rest_kw"); w.value(kW(b.allowedRestW))
        w.key("household_kw"); w.value(kW(b.householdW))
        w.key("forecast_kw"); w.value(kW(b.forecastW))
        w.key("month_peak_kw"); w.value(kW(b.monthPeakW))
        w.key("energy_source"); w.value(b.source.rawValue)
        w.key("meter_fresh"); w.value(b.meterFresh)
        w.endObject()
        w.key("main_meter")
        if let id = engine.mainMeter {
            let sample = engine.measurements.meters[id]
            w.beginObject()
            w.key("device"); w.value(id)
            w.key("power_kw"); w.optional(sample?.power.map(kW))
            w.key("time"); w.optional(sample.map { ISO8601.format($0.time, utcOffsetSeconds: 0) })
            w.endObject()
        } else {
            w.null()
        }
        let stale = engine.staleMeters(now: now)
        w.key("stale_meters")
        w.beginArray()
        for meter in stale { w.value(meter.device) }
        w.endArray()
        // The same meters with the age of their last reading, so "stale" says how stale.
        w.key("stale_meter_details")
        w.beginArray()
        for meter in stale {
            w.beginObject()
            w.key("device"); w.value(meter.device)
            w.key("age_s"); w.optional(meter.age.map { ($0 * 10).rounded() / 10 })
            w.key("why"); w.value(meter.why.rawValue)
            w.endObject()
        }
        w.endArray()
        w.key("charge_points")
        w.beginArray()
        let settings = engine.state.settings
        let measured = engine.effectiveMeasurements
        for (point, setpoint) in zip(engine.model.chargePoints, decision.setpoints) {
            let charger = measured.chargers[point.device]
            w.beginObject()
            w.key("id"); w.value(point.id)
            w.key("mode"); w.value((settings.modes[point.id] ?? point.mode).rawValue)
            w.key("manual_current"); w.optional(settings.manualCurrents[point.id] ?? point.manualCurrent)
            w.key("priority"); w.value(settings.priorities[point.id] ?? point.priority)
            w.key("setpoint"); w.value(setpoint.current)
            w.key("phases"); w.value(setpoint.phases)
            w.key("reason"); w.value(engine.describe(setpoint.reason, now: now))
            // As the decision saw it: reported online and heard from within the charger timeout.
            let online = charger.map { $0.online && now.timeIntervalSince($0.time) <= point.chargerTimeout } ?? false
            w.key("online"); w.value(online)
            w.key("connected"); w.value(charger?.connected ?? false)
            w.key("applied")
            if let applied = engine.applied[point.id] {
                w.beginObject()
                w.key("result"); w.value(applied.result.rawValue)
                w.key("current"); w.optional(applied.current)
                w.key("sequence"); w.optional(applied.sequence.map { Int(clamping: $0) })
                w.key("time"); w.value(ISO8601.format(applied.time, utcOffsetSeconds: 0))
                w.endObject()
            } else {
                w.null()
            }
            w.endObject()
        }
        w.endArray()
        writeStats(&w, engine.state.stats, model: engine.model)
        if let house = engine.house { HouseStatePayload.write(&w, house, now: now) }
        w.endObject()
        return w.bytes
    }

    /// How control itself behaves: setpoint changes per point over the last hour (a steady
    /// site has none), seconds a meter showed a panel above its limit (should stay 0), and
    /// the share of the room the solver found that the cars were given.
    private static func writeStats(_ w: inout JSONWriter, _ stats: ControlStats?, model: SiteModel) {
        let s = stats ?? ControlStats()
        w.key("stats")
        w.beginObject()
        w.key("since"); w.optional(s.since.map { ISO8601.format($0, utcOffsetSeconds: 0) })
        w.key("room_used"); w.optional(s.roomShare.map { (($0 * 1000).rounded()) / 1000 })
        w.key("over_limit_seconds")
        w.beginObject()
        for node in model.nodes { w.key(node.id); w.value(((s.overLimitSeconds[node.id] ?? 0) * 10).rounded() / 10) }
        w.endObject()
        w.key("setpoint_changes_last_hour")
        w.beginObject()
        for cp in model.chargePoints { w.key(cp.id); w.value(s.changesLastHour(cp.id)) }
        w.endObject()
        w.key("setpoint_changes_total")
        w.beginObject()
        for cp in model.chargePoints { w.key(cp.id); w.value(s.totalChanges[cp.id] ?? 0) }
        w.endObject()
        w.endObject()
    }

    private static func kW(_ watts: Double) -> Double { rounded(watts / 1000) }
    /// Watt-hour resolution is plenty for people and keeps the payload short.
    private static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
