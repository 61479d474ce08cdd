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
    /// Devices the gateway reports offline (`…/device/<id>/availability`): a meter
    /// among them is stale and a charger offline at once, whatever their last
    /// retained state says.
    private(set) var offlineDevices: Set<String> = []
    /// What the gateway last did with each charge point's setpoint (diagnostics only).
    private(set) var applied: [String: AppliedPayload] = [:]
    /// The sequence number of the last decision published.
    private(set) var sequence: UInt64
    private(set) var lastDecision: Decision?
    /// Heat pump, relays and tariff rules (`control.house`); nil without one.
    private(set) var house: HouseEngine?

    /// - Parameter firstSequence: where numbering starts. The service starts at the wall
    ///   clock in milliseconds, so a restarted control keeps counting upward for the
    ///   gateway as long as it decides less than a thousand times a second.
    init(model: SiteModel, state: ControlState, firstSequence: UInt64, now: Date = Date(),
         heatPumpModel: HeatPumpModel? = nil, savedHouse: HouseState? = nil) {
        self.model = model
        self.state = state
        self.sequence = firstSequence
        house = HouseEngine(model: model, now: now, heatPumpModel: heatPumpModel, saved: savedHouse)
        if case .device(let id) = model.nodes[0].meter { mainMeter = id } else { mainMeter = nil }
    }

    /// Records a meter sample; returns true when it is a new reading of the main meter
    /// (a cycle is due now). An older or repeated sample (a retained copy after a
    /// reconnect) is not new and does not replace a newer one.
    mutating func record(meter device: String, _ sample: MeterSample, reading: Reading? = nil) -> Bool {
        if let known = measurements.meters[device], known.time >= sample.time { return false }
        if let reading { house?.record(reading: reading) }
        measurements.meters[device] = sample
        return device == mainMeter
    }

    mutating func record(charger device: String, _ sample: ChargerSample) {
        if let known = measurements.chargers[device], known.time > sample.time { return }
        measurements.chargers[device] = sample
    }

    /// `…/device/<id>/availability`: `offline`, or anything else (online, unknown,
    /// cleared) that takes the device off the offline list. Returns whether it changed.
    @discardableResult
    mutating func record(availability: String, device: String) -> Bool {
        if availability == "offline" { return offlineDevices.insert(device).inserted }
        return offlineDevices.remove(device) != nil
    }

    /// The measurements a decision reads: a meter the gateway reports offline is
    /// left out (stale), a charger it reports offline counts as offline.
    var effectiveMeasurements: Measurements {
        guard !offlineDevices.isEmpty else { return measurements }
        var effective = measurements
        for device in offlineDevices {
            effective.meters[device] = nil
            effective.chargers[device]?.online = false
        }
        return effective
    }

    /// Returns whether the result differs from the last one (worth a log line: the
    /// gateway answers every setpoint, once a second).
    mutating func record(applied payload: AppliedPayload, chargePoint: String) -> Bool {
        guard model.chargePointIndex(id: chargePoint) != nil else { return false }
        let changed = applied[chargePoint]?.result != payload.result
        applied[chargePoint] = payload
        return changed
    }

    mutating func apply(_ command: ControlCommand, now: Date = Date()) {
        switch command {
        case .heatPump(let id, let regime, let seconds):
            house?.override(id, value: regime?.name, until: now + seconds)
        case .relay(let id, let on, let seconds):
            house?.override(id, value: on.map { $0 ? "on" : "off" }, until: now + seconds)
        default:
            command.apply(to: &state.settings)
        }
    }

    /// The gateway's report of a relay control steers; others are ignored.
    mutating func record(relay id: String, on: Bool) { house?.record(relay: id, on: on) }

    /// The gateway's answer to a relay command (`relay/<id>/applied`).
    mutating func record(relayAnswer id: String, result: String, on: Bool?, reason: String?, time: Date) {
        house?.record(relayAnswer: id, result: result, on: on, reason: reason, time: time)
    }

    /// Relay commands due after the last cycle (changes, and a repeat every 30 s).
    mutating func dueRelayCommands(now: Date) -> [(id: String, on: Bool)] { house?.dueCommands(now: now) ?? [] }
    mutating func dueInverterSetpoints(now: Date) -> [(setpoint: InverterSetpoint, sequence: Int)] {
        house?.dueInverterSetpoints(now: now) ?? []
    }

    /// One decision: runs the library and numbers the result.
    mutating func cycle(now: Date) -> Decision {
        // The tariff's car limit holds for this cycle only: the operator's settings stay.
        var run = state
        if let house { run.settings = house.limitedSettings(state.settings, model: model, now: now) }
        let measured = effectiveMeasurements
        let forCars = house?.measurementsForCars(measured, model: model, now: now) ?? measured
        var (next, decision) = ControlCycle.run(state: run, model: model, measurements: forCars, now: now)
        next.settings = state.settings
        state = next
        _ = house?.step(decision: decision, settings: run.settings, model: model, measurements: measured, now: now)
        sequence &+= 1
        lastDecision = decision
        return decision
    }

    /// A meter control does not decide on, and why.
    struct StaleMeter: Equatable {
        enum Why: String { case offline, tooOld = "too_old", noReading = "no_reading", noCurrents = "no_currents" }
        var device: String
        /// Age of its last reading (s), nil when none arrived.
        var age: TimeInterval?
        var why: Why
    }

    /// Meters the model reads whose latest sample is missing, older than their node's
    /// timeout, without per-phase currents, or whose device the gateway reports offline.
    func staleMeters(now: Date) -> [StaleMeter] {
        var stale: [StaleMeter] = []
        for node in model.nodes {
            guard case .device(let id) = node.meter, !stale.contains(where: { $0.device == id }) else { continue }
            let sample = measurements.meters[id]
            let age = sample.map { now.timeIntervalSince($0.time) }
            let why: StaleMeter.Why? =
                if offlineDevices.contains(id) { .offline }
                else if sample == nil { .noReading }
                else if let age, age > node.meterTimeout { .tooOld }
                else if sample?.currents == nil { .noCurrents }
                else { nil }
            if let why { stale.append(StaleMeter(device: id, age: age, why: why)) }
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
        if offlineDevices.contains(meter) {
            let last = measurements.meters[meter].map { "its last reading is \(Self.ageText(now.timeIntervalSince($0.time)))" }
            return "meter '\(meter)' of '\(nodeID)' is stale: the gateway reports it offline (\(last ?? "no reading yet")): safe current"
        }
        guard let sample = measurements.meters[meter] else {
            return "meter '\(meter)' of '\(nodeID)' is stale: no reading yet: safe current"
        }
        guard sample.currents != nil else {
            return "meter '\(meter)' of '\(nodeID)' is stale: its readings carry no phase currents: safe current"
        }
        return "meter '\(meter)' of '\(nodeID)' is stale: its last reading is \(Self.ageText(now.timeIntervalSince(sample.time))) (limit \(limit) s): safe current"
    }

    /// "12 s old", or "3 s in the future" for a meter whose clock runs ahead.
    private static func ageText(_ age: TimeInterval) -> String {
        age < 0 ? "\(JSONWriter.format((-age).rounded())) s in the future" : "\(JSONWriter.format(age.rounded())) s old"
    }
}
