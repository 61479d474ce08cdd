import Foundation
import Logging
import Modbus
import MQTT
import PhasorCore
import PhasorService
import ServiceLifecycle

/// The gateway's side of an inverter that takes setpoints (its profile's `setpoints`,
/// its ratings in `modbus.devices[].setpoints`); the readings stay with `ModbusDeviceService`.
/// - at start, and whenever control goes quiet, writes the safe values (the active-power
///   limit's `active_power_safe_w`, the battery's maxima: its own self-consumption);
/// - takes `…/inverter/<id>/setpoint` (never retained), refuses what is out of range or
///   not in the profile (reason on `…/error/gateway`, `applied` with `refused`; nothing
///   written) and writes the rest (`applied` with `applied` or `failed`);
/// - a setpoint holds `valid_s` (default the site's `validity_s`, 60 s): older, the safe
///   values are written (`applied` with `fallback`), as when control's status goes
///   `offline` or its heartbeat stops;
/// - rewrites the values in force every `refresh_s` of the profile (device watchdogs);
/// - safe values the device did not take are tried again every 10 s.
public struct InverterSetpointService: Service {
    let id: String
    let writer: InverterSetpointWriter
    let client: MQTTClient
    let topics: TopicBuilder
    let clock: any WallClock
    let tick: Duration
    let logger: Logger
    private let link = Locked(Link())

    struct Link {
        var control = ControlJudge()
        /// The values in force and until when; nil while the safe values hold.
        var current: (values: [(field: String, watts: Double)], until: Date)?
        /// The safe values could not be written: tried again at this time.
        var retrySafeAt: Date?
    }

    public init(id: String, writer: InverterSetpointWriter, client: MQTTClient, topics: TopicBuilder,
                clock: any WallClock = SystemWallClock(), tick: Duration = .seconds(1), logger: Logger) {
        self.id = id
        self.writer = writer
        self.client = client
        self.topics = topics
        self.clock = clock
        self.tick = tick
        self.logger = logger
    }

    var safeValues: [(field: String, watts: Double)] {
        writer.fields.compactMap { f in writer.limits.safe(f).map { (f, $0) } }
    }

    public func run() async throws {
        let setpoints = try await client.subscribe(topics.inverterSetpoint(id), options: .commands)
        let controlStatus = try await client.subscribe(topics.status(.control), qos: .atLeastOnce)
        let controlBeat = try await client.subscribe(topics.heartbeat(.control), qos: .atLeastOnce)
        logger.info("inverter setpoints ready", metadata: [
            "inverter": "\(id)", "topic": "\(topics.inverterSetpoint(id))", "fields": "\(writer.fields.joined(separator: ", "))",
        ])
        await fallBack(reason: "gateway started: safe values until control sends setpoints")
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in setpoints {
                        switch await RetainedCommands.check(message, client: self.client) {
                        case .apply: await self.handle(message)
                        case .ignore: continue
                        case .refuse(let error): self.refuse(error, sequence: nil)
                        }
                    }
                }
                group.addTask {
                    for await message in controlStatus {
                        guard message.string == "online" || message.string == "offline" else { continue }
                        self.link.withLock { $0.control.record(status: message.string) }
                        await self.judge()
                    }
                }
                group.addTask {
                    for await message in controlBeat {
                        if !self.link.withLock({ $0.control.record(heartbeat: message.payload) }) {
                            self.logger.warning("unreadable control heartbeat", metadata: ["inverter": "\(self.id)"])
                        }
                        await self.judge()
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: self.tick) } catch { return }
                        await self.judge()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        setpoints.cancel()
        controlStatus.cancel()
        controlBeat.cancel()
    }

    func handle(_ message: MQTTMessage) async {
        let online = await writer.device.health.availability != .offline
        let validator = InverterSetpointValidator(fields: writer.fields, limits: writer.limits)
        switch validator.validate(message.payload, topic: message.topic, deviceOnline: online) {
        case .failure(let error):
            refuse(error, sequence: (try? JSONObject(message.payload)).flatMap { try? $0.int("sequence") })
        case .success(let setpoint) where link.withLock({ $0.control.alive == false }):
            refuse(CommandError(topic: message.topic, field: setpoint.values[0].field,
                                reason: "control is offline: holding the safe values", payload: message.payload),
                   sequence: setpoint.sequence)
        case .success(let setpoint):
            let now = clock.now()
            let until = now.addingTimeInterval(setpoint.validS ?? writer.limits.validity)
            do throws(ModbusError) {
                try await writer.write(setpoint.values)
                link.withLock { $0.current = (setpoint.values, until) }
                publish(InverterAppliedPayload(time: clock.now(), result: .applied, values: setpoint.values,
                                               sequence: setpoint.sequence, validUntil: until,
                                               reason: setpoint.reason.map { Excerpt.of($0, maxBytes: 256) }))
            } catch {
                logger.warning("inverter setpoint not written", metadata: ["inverter": "\(id)", "error": "\(error)"])
                publish(InverterAppliedPayload(time: clock.now(), result: .failed, values: setpoint.values,
                                               sequence: setpoint.sequence, reason: "write failed: \(error)"))
            }
        }
    }

    /// Control judged, the setpoint's validity checked, the values in force refreshed.
    func judge() async {
        let now = clock.now()
        let (lost, current) = link.withLock { l in (l.control.judge(now: now), l.current) }
        if let lost {
            await fallBack(reason: lost.fallbackReason)
            return
        }
        guard let current else {
            if let retry = link.withLock({ $0.retrySafeAt }), now >= retry {
                await fallBack(reason: "safe values not written yet: trying again")
            }
            return
        }
        if now >= current.until {
            await fallBack(reason: "setpoint expired: none newer within its validity")
            return
        }
        do throws(ModbusError) { try await writer.write(current.values) } catch {
            logger.debug("inverter setpoint not refreshed", metadata: ["inverter": "\(id)", "error": "\(error)"])
        }
    }

    /// Pause before the safe values are tried again after a failed write, s.
    static let safeRetry: TimeInterval = 10

    private func fallBack(reason: String) async {
        link.withLock { $0.current = nil; $0.retrySafeAt = nil }
        let values = safeValues
        await writer.forget()
        do throws(ModbusError) {
            try await writer.write(values)
            logger.warning("\(reason): safe values written", metadata: ["inverter": "\(id)"])
            publish(InverterAppliedPayload(time: clock.now(), result: .fallback, values: values, reason: reason))
        } catch {
            link.withLock { $0.retrySafeAt = clock.now().addingTimeInterval(Self.safeRetry) }
            logger.warning("safe values not written", metadata: ["inverter": "\(id)", "error": "\(error)"])
            publish(InverterAppliedPayload(time: clock.now(), result: .failed, values: values,
                                           reason: "\(reason); safe values not written: \(error)"))
        }
    }

    private func refuse(_ error: CommandError, sequence: Int?) {
        logger.warning("inverter setpoint refused", metadata: ["inverter": "\(id)", "field": "\(error.field)", "reason": "\(error.reason)"])
        let now = clock.now()
        client.publish(MQTTMessage(topic: topics.error(.gateway), payload: error.json(at: now), qos: .atLeastOnce,
                                   properties: MQTTPublishProperties(contentType: "application/json")), orLog: logger)
        publish(InverterAppliedPayload(time: now, result: .refused, sequence: sequence, reason: "\(error.field): \(error.reason)"))
    }

    private func publish(_ applied: InverterAppliedPayload) {
        client.publish(MQTTMessage(topic: topics.inverterApplied(id), payload: applied.encode(), qos: .atLeastOnce, retain: true,
                                   properties: MQTTPublishProperties(contentType: "application/json")), orLog: logger)
    }
}
