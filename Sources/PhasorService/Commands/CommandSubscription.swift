import MQTT

extension MQTTSubscribeOptions {
    /// How a service subscribes to the commands it answers. Commands are never
    /// retained; a message that arrives with `retain` set is refused
    /// (`CommandError.retained`), so nothing replays at a restart or reconnect.
    ///
    /// - MQTT 5: retain-as-published keeps the flag as the sender set it, so a
    ///   retained command is refused live and at every later subscribe.
    /// - MQTT 3.1.1: the broker clears the flag on live delivery and sets it on
    ///   messages it delivers from its retained store at subscribe time. A command
    ///   published retained is therefore applied once when it arrives live (it cannot
    ///   be told apart) and refused at every start and reconnect after that.
    public static let commands = MQTTSubscribeOptions(qos: .atLeastOnce, retainAsPublished: true)
}
