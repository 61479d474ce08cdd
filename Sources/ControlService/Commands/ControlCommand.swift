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
        }
    }
}
