import Foundation
import MQTT
import PhasorCore
import PhasorService

extension ControlLoopService {
    /// `…/control/…/set`: validated; refused with a reason on `…/error/control`, or
    /// applied and answered by a new decision (setpoints and state) right away.
    func handleCommand(_ message: MQTTMessage) async {
        // A retained command would be re-applied at every restart, over the saved settings.
        switch await RetainedCommands.check(message, client: client) {
        case .apply: break
        case .ignore: return
        case .refuse(let error):
            refuse(error, now: clock.now())
            return
        }
        let now = clock.now()
        switch ControlCommand.parse(topic: message.topic, payload: message.payload, topics: topics, model: model) {
        case .failure(let error):
            refuse(error, now: now)
        case .success(let command):
            engine.withLock { $0.apply(command, now: now) }
            logger.notice("command accepted", metadata: ["topic": "\(message.topic)", "value": "\(Excerpt.of(message.payload))"])
            if ready.withLock({ $0 }) { runCycle() }
        }
    }

    private func refuse(_ error: CommandError, now: Date) {
        logger.warning("command refused", metadata: ["topic": "\(error.topic)", "field": "\(error.field)", "reason": "\(error.reason)"])
        publisher.publishRefusal(error, now: now)
    }
}
