import Control
import Foundation
import PhasorCore

/// The service's decision state, free of MQTT: what was measured, what control
/// remembers, and the decision counter. The service keeps one behind a lock and
/// publishes each cycle's decision while holding it, so setpoints leave in
/// sequence order.
struct ControlEngine: Sendable {
    let model: SiteModel
    /// The level-1 node's meter: each new reading of it triggers a cycle.
    let mainMeter: String?
    private(set) var state: ControlState
    private(set) var measurements = Measurements()
    /// What the gateway last did with each charge point's setpoint (diagnostics only).
    private(set) var applied: [String: AppliedPayload] = [:]
    /// The sequence number of the last decision published.
    private(set) var sequence: UInt64
    private(set) var lastDecision: Decision?

    /// - Parameter firstSequence: where numbering starts. The service starts at the wall
    ///   clock in milliseconds, so a restarted control keeps counting upward for the
    ///   gateway as long as it decides less than a thousand times a second.
    init(model: SiteModel, state: ControlState, firstSequence: UInt64) {
        self.model = model
        self.state = state
        self.sequence = firstSequence
        if case .device(let id) = model.nodes[0].meter { mainMeter = id } else { mainMeter = nil }
    }

    /// Records a meter sample; returns true when it is a new reading of the main meter
    /// (a cycle is due now). An older or repeated sample (a retained copy after a
    /// reconnect) is not new and does not replace a newer one.
    mutating func record(meter device: String, _ sample: MeterSample) -> Bool {
        if let known = measurements.meters[device], known.time >= sample.time { return false }
        measurements.meters[device] = sample
        return device == mainMeter
    }

    mutating func record(charger device: String, _ sample: ChargerSample) {
        if let known = measurements.chargers[device], known.time > sample.time { return }
        measurements.chargers[device] = sample
    }

    /// Returns whether the result differs from the last one (worth a log line: the
    /// gateway answers every setpoint, once a second).
    mutating func record(applied payload: AppliedPayload, chargePoint: String) -> Bool {
        guard model.chargePointIndex(id: chargePoint) != nil else { return false }
        let changed = applied[chargePoint]?.result != payload.result
        applied[chargePoint] = payload
        return changed
    }

    mutating func apply(_ command: ControlCommand) {
        command.apply(to: &state.settings)
    }

    /// One decision: runs the library and numbers the result.
    mutating func cycle(now: Date) -> Decision {
        let (next, decision) = ControlCycle.run(state: state, model: model, measurements: measurements, now: now)
        state = next
        sequence &+= 1
        lastDecision = decision
        return decision
    }

    /// Meters the model reads whose latest sample is missing or older than their node's timeout.
    func staleMeters(now: Date) -> [String] {
        var stale: [String] = []
        for node in model.nodes {
            guard case .device(let id) = node.meter, !stale.contains(id) else { continue }
            let fresh = measurements.meters[id].map {
                $0.currents != nil && now.timeIntervalSince($0.time) <= node.meterTimeout
            }
            if fresh != true { stale.append(id) }
        }
        return stale
    }

    /// A setpoint's reason in words, with what the library's reason cannot know: how
    /// old a stale meter's last reading is (a feed one hour behind, as with a wrong
    /// DST flag, then says "3600 s old").
    func describe(_ reason: SetpointReason, now: Date) -> String {
        guard case .meterStale(let nodeID) = reason, let node = model.nodes.first(where: { $0.id == nodeID }),
            case .device(let meter) = node.meter
        else { return reason.description }
        let limit = JSONWriter.format(node.meterTimeout)
        guard let sample = measurements.meters[meter] else {
            return "meter '\(meter)' of '\(nodeID)' is stale: no reading yet: safe current"
        }
        guard sample.currents != nil else {
            return "meter '\(meter)' of '\(nodeID)' is stale: its readings carry no phase currents: safe current"
        }
        let age = now.timeIntervalSince(sample.time)
        let ageText = age < 0 ? "\(JSONWriter.format((-age).rounded())) s in the future" : "\(JSONWriter.format(age.rounded())) s old"
        return "meter '\(meter)' of '\(nodeID)' is stale: its last reading is \(ageText) (limit \(limit) s): safe current"
    }
}
