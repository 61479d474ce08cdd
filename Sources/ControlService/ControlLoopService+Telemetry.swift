import Control
import Foundation
import MQTT
import PhasorCore

extension ControlLoopService {
    /// `…/meter/<id>/state`: a new main-meter reading triggers a cycle at once.
    func handleMeter(_ message: MQTTMessage) {
        let meter: (device: String, sample: MeterSample, reading: Reading)
        do {
            meter = try TelemetryDecoding.meter(message.payload)
        } catch {
            logger.warning("unreadable meter state", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
            return
        }
        let due = engine.withLock { $0.record(meter: meter.device, meter.sample, reading: meter.reading) }
        if due && ready.withLock({ $0 }) { runCycle(byMeter: true) }
    }

    /// `…/chargepoint/<id>/state`: read at the next cycle. A charger never heard of
    /// stays absent, which the library budgets like an offline one (safe current).
    func handleCharger(_ message: MQTTMessage) {
        do {
            let charger = try TelemetryDecoding.charger(message.payload)
            engine.withLock { $0.record(charger: charger.device, charger.sample) }
        } catch {
            logger.warning("unreadable charge point state", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    /// `…/device/<id>/availability`: a meter or charger the gateway reports offline
    /// is stale (or offline) from the next decision on, which is taken at once.
    func handleAvailability(_ message: MQTTMessage) {
        let levels = message.topic.split(separator: "/")
        guard levels.count >= 3 else { return }
        let device = String(levels[levels.count - 2])
        let changed = engine.withLock { $0.record(availability: message.string, device: device) }
        guard changed else { return }
        logger.notice("device availability", metadata: ["device": "\(device)", "availability": "\(message.string)"])
        if ready.withLock({ $0 }) { runCycle() }
    }

    /// `…/relay/<id>/state` (gateway, retained): what a relay is now, so a command the
    /// gateway missed (it started later, or fell back to the default) is sent again.
    func handleRelayState(_ message: MQTTMessage) {
        guard !message.payload.isEmpty else { return }
        do throws(PayloadError) {
            let object = try JSONObject(message.payload)
            let id = try object.requiredString("id")
            let on = try object.requiredBool("on")
            engine.withLock { $0.record(relay: id, on: on) }
        } catch {
            logger.warning("unreadable relay state", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    /// `…/relay/<id>/applied` (gateway, retained): a command `refused` or `failed` leaves
    /// the relay's state unknown to control until the gateway reports it (`HouseEngine`).
    func handleRelayAnswer(_ message: MQTTMessage) {
        guard !message.payload.isEmpty else { return }
        do throws(PayloadError) {
            let object = try JSONObject(message.payload)
            let id = try object.requiredString("id")
            let result = try object.requiredString("result")
            let time = try object.time("time") ?? clock.now()
            let (on, reason) = (try object.bool("on"), try object.string("reason"))
            engine.withLock { $0.record(relayAnswer: id, result: result, on: on, reason: reason, time: time) }
        } catch {
            logger.warning("unreadable relay answer", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    /// `…/chargepoint/<id>/applied`: shown on the state topic, for diagnostics.
    func handleApplied(_ message: MQTTMessage) {
        let levels = message.topic.split(separator: "/")
        guard levels.count >= 2 else { return }
        let id = String(levels[levels.count - 2])
        do {
            let applied = try AppliedPayload.decode(message.payload)
            let changed = engine.withLock { $0.record(applied: applied, chargePoint: id) }
            if changed && applied.result != .applied {
                logger.notice(
                    "gateway did not apply a setpoint",
                    metadata: ["chargepoint": "\(id)", "result": "\(applied.result.rawValue)", "reason": "\(applied.reason ?? "")"])
            }
        } catch {
            logger.warning("unreadable applied message", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }
}
