import Modbus
import PhasorCore
import PhasorService

/// Decides whether a setpoint may be written to a charger: its shape (via the
/// contract's decoder), then the profile's limits and what the device can do now.
/// Pure, so every refusal is tested without a broker or a charger.
struct SetpointValidator {
    let limits: ChargerLimits

    /// A refused setpoint: the error for `…/error/gateway` and, where the payload
    /// could be read, the setpoint itself (so `applied` can name its sequence).
    struct Refusal: Error {
        var error: CommandError
        var setpoint: SetpointPayload?
    }

    func validate(_ payload: [UInt8], topic: String, deviceOnline: Bool) -> Result<SetpointPayload, Refusal> {
        func refuse(_ field: String, _ reason: String, _ setpoint: SetpointPayload? = nil) -> Result<SetpointPayload, Refusal> {
            .failure(Refusal(error: CommandError(topic: topic, field: field, reason: reason, payload: payload), setpoint: setpoint))
        }
        let setpoint: SetpointPayload
        do {
            setpoint = try SetpointPayload.decode(payload)
        } catch {
            switch error {
            case .notAnObject: return refuse("current", "expected a number (A) or a JSON object with 'current'")
            case .missingField(let field): return refuse(field, "is missing")
            case .invalidField(let field, let reason): return refuse(field, reason)
            }
        }
        let amps = setpoint.current
        let format = JSONWriter.format
        guard amps.isFinite else { return refuse("current", "must be a finite number", setpoint) }
        guard amps >= 0 else { return refuse("current", "\(format(amps)) A is negative: use 0 to pause", setpoint) }
        guard amps <= limits.maxCurrent else {
            return refuse("current", "\(format(amps)) A is above this charger's maximum of \(format(limits.maxCurrent)) A", setpoint)
        }
        guard amps == 0 || amps >= limits.minCurrent else {
            return refuse("current", "\(format(amps)) A is below this charger's minimum of \(format(limits.minCurrent)) A: use 0 to pause or at least \(format(limits.minCurrent)) A", setpoint)
        }
        if let phases = setpoint.phases, phases != limits.phases {
            guard limits.canSwitchPhases else {
                return refuse("phases", "this charger cannot switch phases (wired for \(limits.phases))", setpoint)
            }
            guard phases <= limits.phases else {
                return refuse("phases", "this charger is wired for \(limits.phases) phase(s)", setpoint)
            }
        }
        guard deviceOnline else { return refuse("current", "the charger is offline (not answering); nothing written", setpoint) }
        return .success(setpoint)
    }
}
