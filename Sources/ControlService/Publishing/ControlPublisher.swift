import Control
import Foundation
import MQTT
import PhasorCore
import PhasorService

/// Everything control publishes. Setpoint topics are built once: the latency path
/// (main-meter reading → cycle → setpoints) allocates only the payloads.
struct ControlPublisher: Sendable {
    let client: MQTTClient
    let topics: TopicBuilder
    /// `…/chargepoint/<id>/setpoint`, in configuration order (the order of `Decision.setpoints`).
    private let setpointTopics: [String]
    /// Whether each point's charger can switch phases (only then is `phases` sent).
    private let sendsPhases: [Bool]
    private static let json = MQTTPublishProperties(contentType: "application/json")

    init(client: MQTTClient, topics: TopicBuilder, model: SiteModel) {
        self.client = client
        self.topics = topics
        setpointTopics = model.chargePoints.map { topics.chargePointSetpoint($0.id) }
        sendsPhases = model.chargePoints.map(\.phaseSwitching)
    }

    /// Every point's setpoint, retained, all carrying this decision's sequence number.
    /// Sent every cycle even when unchanged: the gateway falls back to safe currents
    /// when they stop coming.
    func publishSetpoints(_ decision: Decision, sequence: UInt64, now: Date, describe: (SetpointReason) -> String) {
        for (index, setpoint) in decision.setpoints.enumerated() {
            let payload = SetpointPayload(
                current: setpoint.current, phases: sendsPhases[index] ? setpoint.phases : nil, sequence: sequence,
                time: now, reason: describe(setpoint.reason))
            try? client.publish(
                MQTTMessage(topic: setpointTopics[index], payload: payload.encode(), qos: .atLeastOnce, retain: true,
                            properties: Self.json))
        }
    }

    func publishState(_ payload: [UInt8]) {
        try? client.publish(
            MQTTMessage(topic: topics.controlState, payload: payload, qos: .atLeastOnce, retain: true, properties: Self.json))
    }

    /// A relay control steers (heat-pump contacts, plain relays): `…/relay/<id>/command`,
    /// never retained (the gateway refuses retained commands); the gateway applies it and
    /// answers on `…/relay/<id>/state`.
    func publishRelay(_ id: String, on: Bool) {
        try? client.publish(MQTTMessage(topic: topics.relayCommand(id), payload: Array((on ? "on" : "off").utf8), qos: .atLeastOnce))
    }

    /// `inverter/<id>/setpoint`, never retained: the gateway writes it and holds it `valid_s`.
    func publishInverter(_ sp: InverterSetpoint, sequence: Int) {
        var w = JSONWriter()
        w.beginObject()
        if sp.hasPowerLimit {
            w.key("active_power_limit_w")
            if let l = sp.activePowerLimitW { w.value(l) } else { w.null() }
        }
        if let c = sp.batteryMaxChargeW { w.key("battery_max_charge_w"); w.value(c) }
        if let d = sp.batteryMaxDischargeW { w.key("battery_max_discharge_w"); w.value(d) }
        w.key("valid_s"); w.value(Int(HouseEngine.inverterValidity))
        w.key("sequence"); w.value(sequence)
        w.key("reason"); w.value(sp.reason)
        w.endObject()
        try? client.publish(MQTTMessage(topic: topics.inverterSetpoint(sp.device), payload: w.bytes, qos: .atLeastOnce,
                                        properties: MQTTPublishProperties(contentType: "application/json")))
    }

    /// A refused command, never retained.
    func publishRefusal(_ error: CommandError, now: Date) {
        try? client.publish(MQTTMessage(topic: topics.error(.control), payload: error.json(at: now), qos: .atLeastOnce))
    }
}
