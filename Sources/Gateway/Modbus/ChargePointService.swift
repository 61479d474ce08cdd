import Foundation
import Logging
import Modbus
import MQTT
import PhasorCore
import PhasorService
import ServiceLifecycle

/// The gateway's side of one charge point:
/// - publishes `…/chargepoint/<id>/state` after every poll (and availability, stats);
/// - takes `…/chargepoint/<id>/setpoint`, refuses what the charger must not get
///   (reason on `…/error/gateway`, `applied` with `refused`; nothing written) and
///   writes the rest (`applied` with `applied` or `failed`);
/// - keeps the charger's watchdog fed (`maintain()`, every tick);
/// - falls back to the safe current on its own when control's status goes
///   `offline`, its heartbeat stops (a retained `online` left by a control that
///   died while the broker was down), or no setpoint came for the setpoint
///   timeout (`applied` with `fallback`).
///
/// Works on any `ChargerDriver`; `device` (Modbus) adds availability and stats.
public struct ChargePointService: Service {
    let id: String
    let driver: any ChargerDriver
    let device: ModbusDevice?
    let client: MQTTClient
    let topics: TopicBuilder
    let clock: any WallClock
    /// Seconds between status polls (on `clock`).
    let pollInterval: TimeInterval
    /// How often the watchdog and the fallback timers are looked at.
    let tick: Duration
    let logger: Logger
    private let link = Locked(Link())

    /// What the setpoint handler and the poll loop share.
    struct Link {
        /// Control's status and heartbeat as heard, and the last verdict on it (nil until its
        /// retained status arrived).
        var control = ControlJudge()
        var deviceOnline = true
        /// Failed setpoint writes in a row, and when the next write may be tried.
        var failedWrites = 0
        var nextWriteAllowed: Date?
    }

    /// Pause after a failed setpoint write before the next one goes to the bus:
    /// 1 s, 2 s, 4 s … 30 s. Control repeats its setpoint every second; without the
    /// pause a charger that does not answer ties its bus up with two timeouts a second.
    static let writeBackoff = (initial: 1.0, maximum: 30.0)

    public init(id: String, driver: any ChargerDriver, device: ModbusDevice?, client: MQTTClient, topics: TopicBuilder,
                clock: any WallClock = SystemWallClock(), pollInterval: TimeInterval = 5, tick: Duration = .seconds(1),
                logger: Logger) {
        self.id = id
        self.driver = driver
        self.device = device
        self.client = client
        self.topics = topics
        self.clock = clock
        self.pollInterval = pollInterval
        self.tick = tick
        self.logger = logger
    }

    public func run() async throws {
        // Control's status and heartbeat first: the broker then sends their retained
        // copies before a retained setpoint (see `handleSetpoint`).
        let controlStatus = try await client.subscribe(topics.status(.control), qos: .atLeastOnce)
        let controlBeat = try await client.subscribe(topics.heartbeat(.control), qos: .atLeastOnce)
        let setpoints = try await client.subscribe(topics.chargePointSetpoint(id), qos: .atLeastOnce)
        logger.info("charge point ready", metadata: [
            "chargepoint": "\(id)", "setpoint_topic": "\(topics.chargePointSetpoint(id))",
            "limits": "\(driver.limits.minCurrent)…\(driver.limits.maxCurrent) A, safe \(driver.limits.safeCurrent) A",
        ])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await message in setpoints { await self.handleSetpoint(message) } }
                group.addTask { for await message in controlStatus { await self.handleControlStatus(message.string) } }
                group.addTask { for await message in controlBeat { await self.handleControlHeartbeat(message.payload) } }
                group.addTask { await self.pollLoop() }
                await group.next()
                group.cancelAll()
            }
        }
        setpoints.cancel()
        controlStatus.cancel()
        controlBeat.cancel()
    }

    // MARK: Setpoints

    /// What `applied` repeats of a setpoint's reason, in bytes (control's are short).
    static let reasonLimit = 256

    func handleSetpoint(_ message: MQTTMessage) async {
        // An empty retained message clears the topic; it is not a command.
        if message.payload.isEmpty { return }
        if message.retain { await awaitControlVerdict() }
        let state = link.withLock { $0 }
        let validator = SetpointValidator(limits: driver.limits)
        switch validator.validate(message.payload, topic: message.topic, deviceOnline: state.deviceOnline) {
        case .failure(let refusal):
            refuse(refusal.error, setpoint: refusal.setpoint)
        case .success(let setpoint) where state.control.alive == false:
            // A stale retained setpoint of a stopped control must not undo the fallback.
            refuse(CommandError(topic: message.topic, field: "current", reason: "control is offline: holding the safe current",
                                payload: message.payload), setpoint: setpoint)
        case .success(let setpoint):
            await write(setpoint)
        }
    }

    /// A retained setpoint comes on subscribing, right after control's retained
    /// status and heartbeat (subscribed first), but on another stream: give those a
    /// moment to be judged, so the setpoint of a control that is gone is refused.
    /// Without any status (control never ran) it is taken after half a second.
    private func awaitControlVerdict() async {
        for _ in 0..<50 {
            if link.withLock({ $0.control.alive != nil }) {
                // The heartbeat may be a step behind the status: one more turn for it.
                try? await Task.sleep(for: .milliseconds(20))
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private func write(_ setpoint: SetpointPayload) async {
        let now = clock.now()
        if let next = link.withLock({ $0.nextWriteAllowed }), now < next {
            publishApplied(AppliedPayload(
                time: now, result: .failed, current: setpoint.current, phases: setpoint.phases, sequence: setpoint.sequence,
                reason: "not written: the last write failed; next attempt in \(JSONWriter.format((next.timeIntervalSince(now) * 10).rounded(.up) / 10)) s"))
            return
        }
        do throws(ChargerError) {
            if let phases = setpoint.phases, driver.limits.canSwitchPhases { try await driver.setPhases(phases) }
            try await driver.setCurrentLimit(setpoint.current)
            publishApplied(AppliedPayload(time: clock.now(), result: .applied, current: setpoint.current,
                                          phases: setpoint.phases, sequence: setpoint.sequence,
                                          reason: setpoint.reason.map { Excerpt.of($0, maxBytes: Self.reasonLimit) }))
            logger.debug("setpoint applied", metadata: ["chargepoint": "\(id)", "current": "\(setpoint.current)"])
            link.withLock { $0.failedWrites = 0; $0.nextWriteAllowed = nil }
        } catch {
            let pause = link.withLock { link in
                link.failedWrites += 1
                let pause = min(Self.writeBackoff.initial * pow(2, Double(link.failedWrites - 1)), Self.writeBackoff.maximum)
                link.nextWriteAllowed = clock.now().addingTimeInterval(pause)
                return pause
            }
            logger.warning("setpoint not written", metadata: ["chargepoint": "\(id)", "error": "\(error)", "retry_in_s": "\(pause)"])
            publishApplied(AppliedPayload(time: clock.now(), result: .failed, current: setpoint.current,
                                          phases: setpoint.phases, sequence: setpoint.sequence, reason: "\(error)"))
        }
    }

    private func refuse(_ error: CommandError, setpoint: SetpointPayload?) {
        logger.warning("setpoint refused", metadata: ["chargepoint": "\(id)", "field": "\(error.field)", "reason": "\(error.reason)"])
        let now = clock.now()
        send(MQTTMessage(topic: topics.error(.gateway), payload: error.json(at: now), qos: .atLeastOnce,
                         properties: MQTTPublishProperties(contentType: "application/json")))
        publishApplied(AppliedPayload(time: now, result: .refused, current: setpoint?.current, phases: setpoint?.phases,
                                      sequence: setpoint?.sequence, reason: "\(error.field): \(error.reason)"))
    }

    // MARK: Fallback

    func handleControlStatus(_ status: String) async {
        // An empty payload (cleared retained status) says nothing about control.
        guard status == "online" || status == "offline" else { return }
        link.withLock { $0.control.record(status: status) }
        await judgeControl()
    }

    func handleControlHeartbeat(_ payload: [UInt8]) async {
        let understood = link.withLock { $0.control.record(heartbeat: payload) }
        if !understood { logger.warning("unreadable control heartbeat", metadata: ["chargepoint": "\(id)"]) }
        await judgeControl()
    }

    /// Falls back once when control stops being alive (offline, or its beat too old).
    func judgeControl() async {
        let now = clock.now()
        guard let lost = link.withLock({ $0.control.judge(now: now) }) else { return }
        logger.warning("\(lost.fallbackReason): falling back to the safe current", metadata: ["chargepoint": "\(id)"])
        await fallBack(reason: lost.fallbackReason)
    }

    private func fallBack(reason: String) async {
        do throws(ChargerError) {
            try await driver.fallBack()
            publishApplied(AppliedPayload(time: clock.now(), result: .fallback, current: driver.limits.safeCurrent, reason: reason))
        } catch {
            logger.warning("safe current not written", metadata: ["chargepoint": "\(id)", "error": "\(error)"])
            publishApplied(AppliedPayload(time: clock.now(), result: .failed, current: driver.limits.safeCurrent,
                                          reason: "\(reason); safe current not written: \(error)"))
        }
    }

    // MARK: Polling and watchdog

    private func pollLoop() async {
        var reporter = device.map { _ in DeviceReporter(id: id, client: client, topics: topics, logger: logger) }
        var lastPoll: Date?
        var backoff = OfflinePollBackoff()
        while !Task.isCancelled {
            await judgeControl()
            let wasInFallback = await driver.isInFallback
            // Nothing is written to a charger that does not answer (each write would
            // hold the bus for a timeout); the first poll it answers resumes this.
            if link.withLock({ $0.deviceOnline }) {
                do throws(ChargerError) {
                    try await driver.maintain()
                } catch {
                    logger.debug("watchdog not fed", metadata: ["chargepoint": "\(id)", "error": "\(error)"])
                }
            }
            if !wasInFallback, await driver.isInFallback {
                logger.warning("no setpoint within the timeout: safe current written", metadata: ["chargepoint": "\(id)"])
                publishApplied(AppliedPayload(time: clock.now(), result: .fallback, current: driver.limits.safeCurrent,
                                              reason: "no setpoint within the timeout"))
            }
            let now = clock.now()
            let interval = backoff.interval(normal: pollInterval)
            if lastPoll.map({ now.isDue(after: $0, every: interval) }) ?? true {
                lastPoll = now
                await poll(reporter: &reporter)
                backoff.record(offline: !link.withLock { $0.deviceOnline })
            }
            try? await Task.sleep(for: tick)
        }
    }

    private func poll(reporter: inout DeviceReporter?) async {
        let limits = driver.limits
        var state = ChargePointStatePayload(
            id: id, time: clock.now(), online: false, status: .unknown, fallbackActive: await driver.isInFallback,
            minCurrent: limits.minCurrent, maxCurrent: limits.maxCurrent, safeCurrent: limits.safeCurrent,
            phases: limits.phases, canSwitchPhases: limits.canSwitchPhases)
        var publish = true
        do throws(ChargerError) {
            let status = try await driver.readStatus()
            state.online = true
            state.status = ChargePointStatus(rawValue: status.state.rawValue) ?? .unknown
            state.rawStatus = status.rawState
            state.phasesInUse = status.phasesInUse
            state.currents = (0..<3).map { $0 < status.currents.count ? status.currents[$0] : nil }
            state.power = status.power
            state.energyImport = status.energy
            state.currentLimit = status.currentLimit
            state.enabled = status.enabled
            state.fallbackActive = status.fallbackActive
        } catch {
            logger.debug("charger status not read", metadata: ["chargepoint": "\(id)", "error": "\(error)"])
        }
        if let device, var r = reporter {
            let availability = r.report(await device.health, at: clock.now())
            reporter = r
            // Until the device counts as offline, a single failed read keeps the last state.
            if !state.online { publish = availability == .offline }
            link.withLock { $0.deviceOnline = availability != .offline }
        } else {
            link.withLock { $0.deviceOnline = state.online }
        }
        guard publish else { return }
        send(MQTTMessage(topic: topics.chargePointState(id), payload: state.encode(), qos: .atLeastOnce, retain: true,
                         properties: MQTTPublishProperties(contentType: "application/json")))
    }

    // MARK: Publishing

    private func publishApplied(_ applied: AppliedPayload) {
        send(MQTTMessage(topic: topics.chargePointApplied(id), payload: applied.encode(), qos: .atLeastOnce, retain: true,
                         properties: MQTTPublishProperties(contentType: "application/json")))
    }

    private func send(_ message: MQTTMessage) { client.publish(message, orLog: logger) }
}
