import Foundation
import Logging
import MQTT
import MeterIO
import PhasorCore
import PhasorService
import TIC

/// Everything that happens to one meter's bytes: framing and parsing, the P1
/// split, publishing (state, per-quantity, raw), statistics, meter lost/back and
/// the TIC line state. Called from the source loop and the supervision loop; its
/// state sits behind one lock. Time comes from the injected clock only.
final class MeterPipeline: Sendable {
    private struct State: Sendable {
        var decoder: any MeterDecoder
        var throttle: QuantityThrottle
        var statistics = MeterStatistics()
        var liveness: MeterLiveness
        var ticLink: TICLinkMonitor<WallInstant>?
        var ticStatus: TICLinkMonitor<WallInstant>.State?
        var lastStatsAt: Date?
    }

    let id: String
    private let publisher: ReadingPublisher
    private let clock: any WallClock
    private let statsInterval: TimeInterval
    /// The P1 split, when it is listening (it may be retrying a busy port).
    private let split: @Sendable () -> FanOutServer?
    /// TIC auto mode: the line carries bytes but no frame, try the other baud rate.
    private let switchLineSettings: (@Sendable () -> Void)?
    private let logger: Logger
    private let state: Locked<State>

    init(settings: MeterSettings, decoder: any MeterDecoder, publisher: ReadingPublisher, clock: any WallClock,
         statsInterval: TimeInterval, split: @escaping @Sendable () -> FanOutServer?, switchLineSettings: @escaping @Sendable () -> Void, logger: Logger) {
        id = settings.id
        self.publisher = publisher
        self.clock = clock
        self.statsInterval = statsInterval
        self.split = split
        let canSwitch = settings.kind == .tic && settings.serialAlternatives.count > 1
        if case .serial = settings.source, canSwitch { self.switchLineSettings = switchLineSettings } else { self.switchLineSettings = nil }
        self.logger = logger
        state = Locked(State(
            decoder: decoder, throttle: QuantityThrottle(policy: settings.policy),
            liveness: MeterLiveness(periods: settings.meterLostPeriods, defaultPeriod: decoder.defaultPeriod, startedAt: clock.now()),
            ticLink: settings.kind == .tic ? TICLinkMonitor() : nil))
    }

    func handle(_ event: ByteSourceEvent) {
        let now = clock.now()
        state.withLock { s in
            switch event {
            case .opened(let description):
                s.statistics.sourceConnected = true
                s.statistics.sourceOpens += 1
                s.statistics.sourceDescription = description
                // New line settings or a replugged line: judge it afresh.
                if s.ticLink != nil { s.ticLink = TICLinkMonitor() }
                logger.info("meter source open", metadata: ["meter": "\(id)", "source": "\(description)"])
            case .closed(let reason):
                if s.statistics.sourceConnected {
                    logger.warning("meter source closed; reopening", metadata: ["meter": "\(id)", "reason": "\(reason)"])
                } else {
                    logger.debug("meter source not open; retrying", metadata: ["meter": "\(id)", "reason": "\(reason)"])
                }
                s.statistics.sourceConnected = false
                s.decoder.reset()
            case .bytes(let bytes):
                s.ticLink?.observe(bytes, at: WallInstant(now))
                for frame in s.decoder.feed(bytes, at: now) { handle(frame, now: now, in: &s) }
                updateTICStatus(now: now, in: &s)
            }
        }
    }

    /// Meter lost, TIC line state, periodic statistics: run regularly.
    func supervise() {
        let now = clock.now()
        state.withLock { s in
            if s.liveness.check(at: now) != nil {
                logger.warning(
                    "meter lost: no valid telegram", metadata: ["meter": "\(id)", "for_s": "\(s.liveness.timeout)"])
                publishAvailability(.offline)
            }
            updateTICStatus(now: now, in: &s)
            if s.lastStatsAt.map({ now.timeIntervalSince($0) >= statsInterval }) ?? true {
                publishStatistics(s, now: now)
                s.lastStatsAt = now
            }
        }
    }

    /// Whether the source's port, connection or file is open right now.
    var sourceIsOpen: Bool { state.withLock { $0.statistics.sourceConnected } }

    /// Publishes the statistics now (at shutdown, and for tests).
    func publishStatistics() {
        let now = clock.now()
        state.withLock { publishStatistics($0, now: now) }
    }

    private func handle(_ frame: DecodedFrame, now: Date, in s: inout State) {
        // The split passes on every telegram as received, like a P1 OUT port: its
        // clients check the CRC themselves.
        split()?.broadcast(frame.raw)
        s.statistics.badChecksum += frame.droppedGroups
        switch frame.outcome {
        case .rejected(let kind, let reason):
            switch kind {
            case .badCRC: s.statistics.badCRC += 1
            case .badChecksum: break
            case .other: s.statistics.otherErrors += 1
            }
            logger.debug("telegram rejected", metadata: ["meter": "\(id)", "reason": "\(reason)"])
        case .reading(let reading, let period):
            s.statistics.telegramsOK += 1
            s.statistics.lastTelegram = now
            publish(reading, raw: frame.raw, now: now, throttle: &s.throttle)
            if let change = s.liveness.telegram(at: now, period: period) {
                logger.notice("meter online", metadata: ["meter": "\(id)", "period_s": "\(period.components.seconds)"])
                publishAvailability(change)
            }
        }
    }

    private func publish(_ reading: Reading, raw: [UInt8], now: Date, throttle: inout QuantityThrottle) {
        do {
            try publisher.publishState(reading)
            for (quantity, value) in reading.values where throttle.admit(quantity, value, at: now) {
                try publisher.publishQuantity(reading.device, quantity, value)
            }
            try publisher.client.publish(MQTTMessage(topic: publisher.topics.meterRaw(id), payload: raw, qos: .atMostOnce))
        } catch {
            logger.warning("reading not published", metadata: ["meter": "\(id)", "error": "\(error)"])
        }
    }

    private func publishAvailability(_ availability: MeterLiveness.State) {
        publishRetained(publisher.topics.deviceAvailability(id), Array(availability.rawValue.utf8), qos: .atLeastOnce)
    }

    private func publishStatistics(_ s: State, now: Date) {
        let payload = s.statistics.payload(
            device: id, at: now, framingErrors: s.decoder.framingErrors,
            available: s.liveness.state.map { $0 == .online }, split: split()?.statistics)
        publishRetained(publisher.topics.meterStats(id), payload, qos: .atMostOnce, json: true)
        let st = s.statistics
        PhasorMetrics.recordMeter(device: id, telegrams: st.telegramsOK, badCRC: st.badCRC, badChecksum: st.badChecksum,
                                  otherErrors: st.otherErrors + s.decoder.framingErrors, sourceOpens: st.sourceOpens)
    }

    private func updateTICStatus(now: Date, in s: inout State) {
        guard let link = s.ticLink else { return }
        let status = link.state(at: WallInstant(now))
        guard status != s.ticStatus else { return }
        let previous = s.ticStatus
        s.ticStatus = status
        let name = status.topicValue
        if status == .ok {
            logger.notice("TIC line ok", metadata: ["meter": "\(id)"])
        } else if previous != nil || status != .absent {
            // `absent` at start-up is the normal state before the first byte: no warning for it.
            logger.warning("TIC line \(name.replacingOccurrences(of: "_", with: " "))", metadata: ["meter": "\(id)"])
        }
        publishRetained(publisher.topics.meterTICStatus(id), Array(name.utf8), qos: .atLeastOnce)
        if status == .notActivated, let switchLineSettings {
            logger.notice("TIC: bytes but no valid frame at these line settings; trying the other baud rate",
                          metadata: ["meter": "\(id)", "source": "\(s.statistics.sourceDescription)"])
            switchLineSettings()
        }
    }

    private func publishRetained(_ topic: String, _ payload: [UInt8], qos: QoS, json: Bool = false) {
        do {
            try publisher.client.publish(MQTTMessage(
                topic: topic, payload: payload, qos: qos, retain: true,
                properties: json ? MQTTPublishProperties(contentType: "application/json") : MQTTPublishProperties()))
        } catch {
            logger.warning("not published", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }
}

extension TICLinkMonitor.State {
    /// The payload of `…/meter/<id>/tic_status`.
    var topicValue: String {
        switch self {
        case .ok: "ok"
        case .absent: "absent"
        case .notActivated: "not_activated"
        case .interrupted: "interrupted"
        }
    }
}
