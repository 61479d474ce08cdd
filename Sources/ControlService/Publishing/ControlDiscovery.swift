import Control
import HomeAssistant
import Logging
import PhasorCore
import PhasorService
import ServiceLifecycle

/// What control tells Home Assistant: control itself (the slider, the quarter-hour
/// budget, forecast and month peak) and, per charge point, its mode (`select`),
/// manual current and priority (`number`) and its setpoint. The controls command
/// the existing `control/…/set` topics (never retained; control validates them and
/// answers on `error/control`); their state is read back from `control/state`.
enum ControlDiscovery {
    /// Phasor device ids (the registry's keys): `control` and `cp_<id>` per charge point.
    static func deviceIDs(model: SiteModel) -> Set<String> {
        Set(["control"] + model.chargePoints.map { "cp_\($0.id)" })
    }

    static func devices(model: SiteModel, topics: TopicBuilder) -> [(id: String, device: DiscoveryDevice)] {
        let node = DiscoveryIdentity.service(site: topics.site, .control)
        let state = topics.controlState
        let availability = [topics.status(.control)]
        func kW(_ key: String, _ name: String, _ path: String) -> DiscoveryComponent {
            DiscoveryComponent(key: key, platform: .sensor, name: name, stateTopic: state, valueTemplate: "{{ \(path) }}",
                               entityClass: EntityClass(deviceClass: "power", stateClass: "measurement", unit: "kW"))
        }
        var slider = DiscoveryComponent(
            key: "slider", platform: .number, name: "Power limit", stateTopic: state,
            valueTemplate: "{{ value_json.slider_kw }}", commandTopic: topics.controlSet("slider"),
            entityClass: EntityClass(deviceClass: "power", unit: "kW"))
        slider.min = BudgetConfig.sliderRangeKW.lowerBound
        slider.max = BudgetConfig.sliderRangeKW.upperBound
        slider.step = 0.1
        slider.mode = "box"
        var result: [(id: String, device: DiscoveryDevice)] = [("control", DiscoveryDevice(
            nodeID: node, identifiers: [node], name: "Phasor control", manufacturer: "Phasor", model: "phasor-control",
            availability: availability,
            components: [
                slider,
                kW("quarter_hour_target", "Quarter-hour target", "value_json.budget.target_kw"),
                kW("quarter_hour_forecast", "Quarter-hour forecast", "value_json.budget.forecast_kw"),
                kW("month_peak", "Month peak", "value_json.budget.month_peak_kw"),
                kW("household", "Household power", "value_json.budget.household_kw"),
            ]))]
        for point in model.chargePoints {
            let cpNode = DiscoveryIdentity.node(topics.site, "control", point.id)
            func pick(_ field: String) -> String {
                "{% for cp in value_json.charge_points if cp.id == '\(point.id)' %}{{ cp.\(field) }}{% endfor %}"
            }
            var mode = DiscoveryComponent(
                key: "mode", platform: .select, name: "Mode", stateTopic: state, valueTemplate: pick("mode"),
                commandTopic: topics.controlSet("chargepoint/\(point.id)/mode"))
            mode.options = ChargeMode.allCases.map(\.rawValue)
            var current = DiscoveryComponent(
                key: "manual_current", platform: .number, name: "Manual current", stateTopic: state,
                valueTemplate: pick("manual_current"), commandTopic: topics.controlSet("chargepoint/\(point.id)/current"),
                entityClass: EntityClass(deviceClass: "current", unit: "A"))
            current.min = point.minCurrent
            current.max = point.maxCurrent
            current.step = point.currentStep
            current.mode = "box"
            var priority = DiscoveryComponent(
                key: "priority", platform: .number, name: "Priority", stateTopic: state, valueTemplate: pick("priority"),
                commandTopic: topics.controlSet("chargepoint/\(point.id)/priority"))
            priority.min = -100
            priority.max = 100
            priority.step = 1
            priority.mode = "box"
            let setpoint = DiscoveryComponent(
                key: "setpoint", platform: .sensor, name: "Setpoint", stateTopic: state, valueTemplate: pick("setpoint"),
                entityClass: EntityClass(deviceClass: "current", stateClass: "measurement", unit: "A"))
            result.append(("cp_\(point.id)", DiscoveryDevice(
                nodeID: cpNode, identifiers: [cpNode], name: "Charging \(point.id)", manufacturer: "Phasor",
                model: "Charge-point control", viaDevice: node, availability: availability,
                components: [mode, current, priority, setpoint],
                ownedTopics: [topics.chargePointSetpoint(point.id)])))
        }
        return result
    }
}

extension ControlLoopService {
    /// Control's Home Assistant discovery as a service to run beside the loop (none
    /// when the site turned discovery off).
    public static func discovery(session: MQTTSessionService, model: SiteModel, logger: Logger) -> [any Service] {
        guard let publisher = session.discoveryPublisher(configured: ControlDiscovery.deviceIDs(model: model), logger: logger)
        else { return [] }
        for (id, device) in ControlDiscovery.devices(model: model, topics: session.settings.topics) {
            publisher.announce(id, device)
        }
        return [publisher]
    }
}
