import Foundation
import MQTT

extension MQTTSubscribeOptions {
    /// How a service subscribes to the commands it answers (with `RetainedCommands`):
    /// retain-as-published, so on MQTT 5 a command published retained keeps its flag
    /// even when it arrives live.
    public static let commands = MQTTSubscribeOptions(qos: .atLeastOnce, retainAsPublished: true)
}

/// Commands are never retained: a retained command would be applied again at every
/// start and reconnect, over what happened since. What a service does with each
/// message on a command topic, on both MQTT versions:
///
/// - an empty payload is no command (it clears a retained one): ignored;
/// - a message with the retain flag is refused (`CommandError.retained`). On MQTT 5
///   (retain-as-published) that covers a command published retained, live or
///   stored. On MQTT 3.1.1 the flag is set only on what the broker delivers from
///   its store at subscribe time; live copies come without it;
/// - so on MQTT 3.1.1 a live command is checked at the broker before it is applied:
///   a second subscription to its topic makes the broker deliver the stored copy,
///   if any, with the flag. When that copy is this command, the command was
///   published retained: it is not applied, and the stored copy, which reaches
///   the command subscription too (3.1.1 routes by topic), is refused.
public enum RetainedCommands {
    public enum Verdict: Sendable, Equatable {
        case apply
        case refuse(CommandError)
        case ignore
    }

    public static func check(_ message: MQTTMessage, client: MQTTClient) async -> Verdict {
        if message.payload.isEmpty { return .ignore }
        if message.retain { return .refuse(.retained(topic: message.topic, payload: message.payload)) }
        guard client.configuration.protocolVersion == .v311 else { return .apply }
        return await storedCopy(of: message.topic, client: client) == message.payload ? .ignore : .apply
    }

    /// MQTT 3.1.1: the payload the broker keeps retained on `topic`, if any.
    ///
    /// `topic/#` (a filter of its own, so the broker gets a SUBSCRIBE even when the
    /// service subscribed to `topic` itself) matches `topic`; the broker sends the
    /// stored message right after its SUBACK. A second SUBSCRIBE is the barrier: its
    /// SUBACK (granted or refused by the ACL) comes after that message, so once it
    /// is back the stored copy is in the probe's buffer. No timer.
    static func storedCopy(of topic: String, client: MQTTClient) async -> [UInt8]? {
        guard let probe = try? await client.subscribe("\(topic)/#", options: .init(qos: .atMostOnce)) else { return nil }
        if let barrier = try? await client.subscribe("\(topic)/\(UUID().uuidString)", options: .init(qos: .atMostOnce)) {
            barrier.cancel()
        }
        probe.cancel()  // ends the stream after what it holds
        var stored: [UInt8]?
        for await message in probe where message.retain && message.topic == topic { stored = message.payload }
        return stored
    }
}
