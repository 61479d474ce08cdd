import Control
import Foundation
import PhasorCore

/// Turns the gateway's retained JSON state messages into the samples the control
/// library reads. Pure functions: the service logs and drops what does not decode.
enum TelemetryDecoding {
    /// `…/meter/<id>/state` (ReadingPayload) → device id and `MeterSample`.
    static func meter(_ payload: [UInt8]) throws -> (device: String, sample: MeterSample, reading: Reading) {
        let decoded = try ReadingPayload.decode(payload)
        guard let time = ISO8601.parse(decoded.time) else {
            throw PayloadError.invalidField("time", reason: "not an ISO 8601 date-time")
        }
        let reading = Reading(device: decoded.device, time: time, values: Array(decoded.values))
        return (decoded.device, MeterSample(reading: reading), reading)
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
