import Control
import Foundation
import PhasorCore

/// `house` in `…/control/state`: the heat pump's regime and why, every plain relay, the
/// tariff signals and the rules that apply, the battery's limits and the export limit
/// (when steered), and the operators' forced states.
enum HouseStatePayload {
    static func write(_ w: inout JSONWriter, _ house: HouseEngine, now: Date) {
        func time(_ d: Date) -> String { ISO8601.format(d, utcOffsetSeconds: 0) }
        let decision = house.last
        w.key("house")
        w.beginObject()
        w.key("heat_pump")
        if let hp = decision?.heatPump {
            w.beginObject()
            w.key("id"); w.value(hp.id)
            w.key("regime"); w.value(hp.regime.name)
            w.key("wanted"); w.value(hp.wanted.name)
            w.key("since"); w.value(time(hp.since))
            w.key("power_kw"); w.value((hp.powerW / 10).rounded() / 100)
            w.key("reason"); w.value(hp.reason)
            w.key("relays")
            w.beginObject()
            for relay in hp.relays { w.key(relay.id); w.value(relay.on) }
            w.endObject()
            w.endObject()
        } else {
            w.null()
        }
        w.key("relays")
        w.beginArray()
        for relay in decision?.relays ?? [] {
            w.beginObject()
            w.key("id"); w.value(relay.id)
            w.key("on"); w.value(relay.on)
            w.key("since"); w.value(time(relay.since))
            w.key("power_kw"); w.value((relay.powerW / 10).rounded() / 100)
            w.key("reason"); w.value(relay.reason.rawValue)
            w.endObject()
        }
        w.endArray()
        // Relays (heat-pump contacts included) whose last command the gateway did not carry
        // out: their state is unknown until it reports it, and counts as on for the limits.
        w.key("refused")
        w.beginArray()
        for (id, r) in house.refusals.sorted(by: { $0.key < $1.key }) {
            w.beginObject()
            w.key("id"); w.value(id)
            w.key("result"); w.value(r.result)
            w.key("reason"); w.value(r.reason)
            w.key("on"); w.optional(r.on)
            w.key("time"); w.value(time(r.time))
            w.endObject()
        }
        w.endArray()
        w.key("tariff")
        w.beginObject()
        let signals = house.tariff
        w.key("tempo_today"); w.optional(signals?.tempoToday?.rawValue)
        w.key("tempo_tomorrow"); w.optional(signals?.tempoTomorrow?.rawValue)
        w.key("period"); w.optional(signals?.period?.rawValue)
        w.key("time"); w.optional(signals.map { time($0.time) })
        w.key("active_rules")
        w.beginArray()
        for condition in decision?.tariff.active ?? [] { w.value(condition.rawValue) }
        w.endArray()
        w.key("cars"); w.optional(decision?.tariff.cars?.rawValue)
        w.endObject()
        if let b = decision?.battery {
            w.key("battery")
            w.beginObject()
            w.key("max_charge_w"); w.value(b.maxChargeW)
            w.key("max_discharge_w"); w.value(b.maxDischargeW)
            w.key("charge_reason"); w.value(b.chargeReason)
            w.key("discharge_reason"); w.value(b.dischargeReason)
            w.key("quarter_import_kwh"); w.value(((house.state.battery?.importWh ?? 0) / 10).rounded() / 100)
            w.endObject()
        }
        if let e = decision?.exportLimit {
            w.key("export_limit")
            w.beginObject()
            w.key("active_power_limit_w"); w.optional(e.limitW)
            w.key("reason"); w.value(e.reason)
            w.endObject()
        }
        w.key("overrides")
        w.beginObject()
        for (id, o) in house.state.overrides.sorted(by: { $0.key < $1.key }) where o.until > now {
            w.key(id)
            w.beginObject()
            w.key("value"); w.value(o.value)
            w.key("until"); w.value(time(o.until))
            w.endObject()
        }
        w.endObject()
        w.endObject()
    }
}
