import Logging
import MQTT

extension MQTTClient {
    /// Publishes without failing the caller: the session queues while offline and
    /// reconnects by itself, so a message it cannot take (queue full, bad topic) is
    /// logged and the device work goes on.
    func publish(_ message: MQTTMessage, orLog logger: Logger) {
        do { try publish(message) } catch {
            logger.warning("not published", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }
}
