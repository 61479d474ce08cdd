import Control
import PhasorCore
import PhasorService

/// An operator command on `…/control/…/set`, validated against the site model.
enum ControlCommand: Sendable, Equatable {
    /// `control/slider/set`: maximum quarter-hour average import, kW.
    case slider(kW: Double)
    /// `control/chargepoint/<id>/mode/set`: automatic, manual, solar or off.
    case mode(chargePoint: String, ChargeMode)
    /// `control/chargepoint/<id>/current/set`: the current manual mode charges at, A.
    case manualCurrent(chargePoint: String, amperes: Double)
    /// `control/chargepoint/<id>/priority/set`: higher charges first when power is short.
    case priority(chargePoint: String, Int)
    /// `control/heatpump/<id>/regime/set`: a forced regime for `seconds` (nil regime = `auto`, back to control).
    case heatPump(id: String, HeatPumpRegime?, seconds: Double)
    /// `control/relay/<id>/set`: a forced state for `seconds` (nil = `auto`).
    case relay(id: String, Bool?, seconds: Double)

    /// The slider's accepted range, kW. The Belgian capacity tariff bills at least
    /// 2.5 kW, so a lower target saves nothing.
    static let sliderRange = BudgetConfig.sliderRangeKW
    /// Priorities are small integers; equal ones go by configuration order.
    static let priorityRange: ClosedRange<Double> = -100...100

    /// Reads and validates one command message. Refusals name the field and the reason.
    static func parse(topic: String, payload: [UInt8], topics: TopicBuilder, model: SiteModel)
        -> Result<ControlCommand, CommandError>
    {
        func refuse(_ field: String, _ reason: String) -> Result<ControlCommand, CommandError> {
            .failure(CommandError(topic: topic, field: field, reason: reason, payload: payload))
        }
        let prefix = topics.root + "/control/"
        guard topic.hasPrefix(prefix), topic.hasSuffix("/set") else { return refuse("topic", "unknown command topic") }
        let path = topic.dropFirst(prefix.count).dropLast("/set".count).split(separator: "/", omittingEmptySubsequences: false)

        if path == ["slider"] {
            return NumericCommand.parse(payload, topic: topic, field: "slider", range: sliderRange, unit: "kW")
                .map { .slider(kW: $0) }
        }
        if path.count == 3, path[0] == "heatpump", path[2] == "regime" {
            guard let hp = model.house?.heatPump, hp.id == path[1] else {
                return refuse("heatpump", "unknown heat pump '\(Excerpt.of(String(path[1])))'")
            }
            return HouseCommand.parse(payload, topic: topic, field: "regime",
                                      allowed: HeatPumpRegime.allCases.map(\.name) + ["auto"])
                .map { .heatPump(id: hp.id, HeatPumpRegime(name: $0.value), seconds: $0.seconds) }
        }
        if path.count == 2, path[0] == "relay" {
            let id = String(path[1])
            guard model.house?.relays.contains(where: { $0.id == id }) == true else {
                let known = (model.house?.relays.map(\.id) ?? []).joined(separator: ", ")
                return refuse("relay", "unknown relay '\(Excerpt.of(id))' (control steers: \(known))")
            }
            return HouseCommand.parse(payload, topic: topic, field: "state", allowed: ["on", "off", "auto"])
                .map { .relay(id: id, $0.value == "auto" ? nil : $0.value == "on", seconds: $0.seconds) }
        }
        guard path.count == 3, path[0] == "chargepoint" else { return refuse("topic", "unknown command topic") }
        let id = String(path[1])
        guard let index = model.chargePointIndex(id: id) else {
            let known = model.chargePoints.map(\.id).joined(separator: ", ")
            return refuse("chargepoint", "unknown charge point '\(Excerpt.of(id))' (known: \(known))")
        }
        let point = model.chargePoints[index]
        switch path[2] {
        case "mode":
            return ChoiceCommand.parse(payload, topic: topic, field: "mode", allowed: ChargeMode.allCases.map(\.rawValue))
                .map { .mode(chargePoint: id, ChargeMode(rawValue: $0)!) }
        case "current":
            // Manual mode still obeys every limit; this range is what the car and charger accept.
            return NumericCommand.parse(
                payload, topic: topic, field: "current", range: point.minCurrent...point.maxCurrent, unit: "A"
            ).map { .manualCurrent(chargePoint: id, amperes: $0) }
        case "priority":
            return NumericCommand.parse(payload, topic: topic, field: "priority", range: priorityRange, unit: "")
                .flatMap { value in
                    value.rounded() == value ? .success(.priority(chargePoint: id, Int(value))) : refuse("priority", "must be a whole number")
                }
        default:
            return refuse("topic", "unknown command topic")
        }
    }

    /// Applies an accepted command to the operator settings the next cycle reads.
    func apply(to settings: inout ControlSettings) {
        switch self {
        case .slider(let kW): settings.sliderKW = kW
        case .mode(let id, let mode): settings.modes[id] = mode
        case .manualCurrent(let id, let amperes): settings.manualCurrents[id] = amperes
        case .priority(let id, let priority): settings.priorities[id] = priority
        case .heatPump, .relay: break  // the house engine's (`ControlEngine.apply`)
        }
    }
}

/// A forced house-load state: a word (`boost`, `on`, `auto`), or
/// `{"value": "boost", "duration_s": 3600}`; the duration defaults to 1 h, 60 s … 24 h.
enum HouseCommand {
    static let durationRange: ClosedRange<Double> = 60...86_400
    static let defaultDuration: Double = 3600

    static func parse(_ payload: [UInt8], topic: String, field: String, allowed: [String])
        -> Result<(value: String, seconds: Double), CommandError>
    {
        func fail(_ f: String, _ reason: String) -> Result<(value: String, seconds: Double), CommandError> {
            .failure(CommandError(topic: topic, field: f, reason: reason, payload: payload))
        }
        let text = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("{") else {
            return ChoiceCommand.parse(payload, topic: topic, field: field, allowed: allowed)
                .map { ($0, defaultDuration) }
        }
        let object: JSONObject
        let word: String?
        let seconds: Double?
        do throws(PayloadError) {
            object = try JSONObject(payload)
            try object.rejectUnknown(allowed: ["value", "duration_s"])
            word = try object.string("value")
            seconds = try object.number("duration_s")
        } catch .invalidField(let key, let reason) {
            // As every other command says it (`ValueObject`).
            return fail(key == "duration_s" ? key : field, key == "value" || key == "duration_s" ? "'\(key)' \(reason)" : "\(reason): '\(key)'")
        } catch {
            return fail(field, "\(error)")
        }
        guard let word else { return fail(field, "'value' is missing") }
        guard allowed.contains(word) else { return fail(field, "'\(Excerpt.of(word))' is not one of \(allowed.joined(separator: ", "))") }
        let duration = seconds ?? defaultDuration
        guard durationRange.contains(duration) else {
            return fail("duration_s", "\(JSONWriter.format(duration)): use 60…86400 s")
        }
        return .success((word, duration))
    }
}
