import Control
import Foundation
import PhasorCore

/// Turns the gateway's retained JSON state messages into the samples the control
/// library reads. Pure functions: the service logs and drops what does not decode.
enum TelemetryDecoding {
    /// `…/meter/<id>/state` (ReadingPayload) → device id and `MeterSample`.
    ///
    /// The sample's time is when the gateway received the reading (`received`, the box's clock),
    /// not the meter's own clock: control lines readings up with its setpoints and the chargers'
    /// reports, all on the box's clock, and a meter clock seconds off would make every reading
    /// look settled too early or stale (a P1 meter's clock drifts, and carries whole seconds).
    /// Without `received` (an older gateway, a hand-made state) the meter's time is used.
    static func meter(_ payload: [UInt8]) throws -> (device: String, sample: MeterSample, reading: Reading) {
        let decoded = try ReadingPayload.decodeState(payload)
        guard let time = ISO8601.parse(decoded.time) else {
            throw PayloadError.invalidField("time", reason: "not an ISO 8601 date-time")
        }
        let reading = Reading(device: decoded.device, time: time, values: Array(decoded.values))
        var sample = MeterSample(reading: reading)
        if let received = decoded.received { sample.time = received }
        return (decoded.device, sample, reading)
    }

    /// `…/chargepoint/<id>/state` → device id and `ChargerSample`.
    ///
    /// `online: false` stays offline here (the library then budgets the charger's safe
    /// current); a car counts as connected only when the charger reports one present.
    static func charger(_ payload: [UInt8]) throws(PayloadError) -> (device: String, sample: ChargerSample) {
        let state = try ChargePointStatePayload.decode(payload)
        var currents: PhaseCurrents? = nil
        if let l1 = state.currents[0], let l2 = state.currents[1], let l3 = state.currents[2] {
            currents = PhaseCurrents(l1, l2, l3)
        } else if state.phases == 1, let l1 = state.currents[0] {
            // A single-phase charger measures its one terminal only.
            currents = PhaseCurrents(l1, 0, 0)
        }
        let sample = ChargerSample(
            time: state.time, online: state.online, connected: state.status.vehiclePresent, currents: currents)
        return (state.id, sample)
    }
}
