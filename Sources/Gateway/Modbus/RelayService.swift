import Foundation
import Logging
import Modbus
import MQTT
import PhasorCore
import PhasorService
import ServiceLifecycle

/// One relay: sets its default at start, applies `…/relay/<id>/command`, publishes
/// `…/relay/<id>/state`, and returns to the default when control stops being alive —
/// offline, or silent: its heartbeat older than three beats (a control that hangs
/// connected must not hold a heat pump locked off), as charge points fall back.
/// A relay without a device is simulated (state only), for demos and tests.
public struct RelayService: Service {
    let config: RelayConfig
    let device: ModbusDevice?
    let client: MQTTClient
    let topics: TopicBuilder
    let clock: any WallClock
    let logger: Logger
    /// How often a silent heartbeat is looked for between messages.
    let judgeInterval: Duration
    /// Control's status and heartbeat as heard, and whether it was last judged alive.
    private let control = Locked(ControlJudge())

    public init(config: RelayConfig, device: ModbusDevice?, client: MQTTClient, topics: TopicBuilder,
                clock: any WallClock = SystemWallClock(), logger: Logger, judgeInterval: Duration = .seconds(1)) {
        self.config = config
        self.device = device
        self.client = client
        self.topics = topics
        self.clock = clock
        self.logger = logger
        self.judgeInterval = judgeInterval
    }

    public func run() async throws {
        // Relay commands are never retained (the retained truth is `relay/<id>/state`):
        // a retained `on` would replay over the default at every start.
        let commands = try await client.subscribe(topics.relayCommand(config.id), options: .commands)
        let controlStatus = try await client.subscribe(topics.status(.control), qos: .atLeastOnce)
        let controlBeat = try await client.subscribe(topics.heartbeat(.control), qos: .atLeastOnce)
        await set(config.defaultState, source: "default")
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in commands {
                        switch await RetainedCommands.check(message, client: self.client) {
                        case .apply: break
                        case .ignore: continue
                        case .refuse(let error):
                            self.refuse(error)
                            self.answer(.refused, reason: error.reason)
                            continue
                        }
                        switch RelayCommand.parse(message.payload, topic: message.topic) {
                        case .success(let command):
                            let failure = await self.set(command.state, source: "command")
                            self.answer(failure == nil ? .applied : .failed, on: command.state.isOn,
                                        sequence: command.sequence, reason: failure)
                        case .failure(let error):
                            self.refuse(error)
                            self.answer(.refused, reason: error.reason)
                        }
                    }
                }
                group.addTask {
                    for await message in controlStatus {
                        self.control.withLock { $0.record(status: message.string) }
                        await self.judgeControl()
                    }
                }
                group.addTask {
                    for await message in controlBeat {
                        if !self.control.withLock({ $0.record(heartbeat: message.payload) }) {
                            self.logger.warning("unreadable control heartbeat", metadata: ["relay": "\(self.config.id)"])
                        }
                        await self.judgeControl()
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: self.judgeInterval) } catch { return }
                        await self.judgeControl()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        commands.cancel()
        controlStatus.cancel()
        controlBeat.cancel()
    }

    /// Back to the default once when control stops being alive (offline, or its beat too old).
    private func judgeControl() async {
        let now = clock.now()
        guard let lost = control.withLock({ $0.judge(now: now) }) else { return }
        if case .silent(let age) = lost {
            logger.warning("control silent: relay back to its default",
                           metadata: ["relay": "\(config.id)", "heartbeat_age_s": "\(Int(age))"])
        }
        await set(config.defaultState, source: "fallback")
    }

    /// Writes the relay and publishes its state; the reason it failed, nil when written.
    @discardableResult
    private func set(_ state: RelayConfig.State, source: String) async -> String? {
        if let device, let write = config.write(state) {
            do throws(ModbusError) {
                try await device.write(write.words, to: write.address, function: write.function)
            } catch {
                logger.warning("relay not switched", metadata: ["relay": "\(config.id)", "error": "\(error)"])
                let reason = "write failed: \(error)"
                refuse(CommandError(topic: topics.relayCommand(config.id), field: "on", reason: reason, payload: state.rawValue))
                return reason
            }
        }
        logger.info("relay switched", metadata: ["relay": "\(config.id)", "state": "\(state.rawValue)", "source": "\(source)"])
        let payload = RelayStatePayload(id: config.id, on: state.isOn, time: clock.now(), source: source, simulated: device == nil)
        send(MQTTMessage(topic: topics.relayState(config.id), payload: payload.encode(), qos: .atLeastOnce, retain: true,
                         properties: MQTTPublishProperties(contentType: "application/json")))
        return nil
    }

    /// The answer to a command on `…/relay/<id>/applied` (retained).
    private func answer(_ result: RelayAppliedPayload.Result, on: Bool? = nil, sequence: UInt64? = nil, reason: String? = nil) {
        let payload = RelayAppliedPayload(id: config.id, time: clock.now(), result: result, on: on, sequence: sequence, reason: reason)
        send(MQTTMessage(topic: topics.relayApplied(config.id), payload: payload.encode(), qos: .atLeastOnce, retain: true,
                         properties: MQTTPublishProperties(contentType: "application/json")))
    }

    private func refuse(_ error: CommandError) {
        logger.warning("relay command refused", metadata: ["relay": "\(config.id)", "reason": "\(error.reason)"])
        send(MQTTMessage(topic: topics.error(.gateway), payload: error.json(at: clock.now()), qos: .atLeastOnce))
    }

    private func send(_ message: MQTTMessage) { client.publish(message, orLog: logger) }
}
