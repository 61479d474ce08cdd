import Foundation
import Logging
import Modbus
import PhasorCore
import ServiceLifecycle

/// Polls one meter or inverter at its profile's intervals and publishes what it
/// read on `…/meter/<id>/state` (the vocabulary every meter uses), plus the
/// device's availability and statistics.
///
/// Devices on one RTU bus each have their own service; the bus serialises their
/// requests, so a silent device delays the others by at most its own timeout, and
/// less and less often once it is offline (`OfflinePollBackoff`).
public struct ModbusDeviceService: Service {
    let device: ModbusDevice
    let publisher: ReadingPublisher
    let clock: any WallClock
    /// How often the service looks for due poll groups (the groups' own intervals
    /// are in the profile, on the injected clock).
    let tick: Duration
    let logger: Logger

    public init(device: ModbusDevice, publisher: ReadingPublisher, clock: any WallClock = SystemWallClock(),
                tick: Duration = .milliseconds(250), logger: Logger) {
        self.device = device
        self.publisher = publisher
        self.clock = clock
        self.tick = tick
        self.logger = logger
    }

    public func run() async throws {
        var reporter = DeviceReporter(id: device.id, client: publisher.client, topics: publisher.topics, logger: logger)
        logger.info("modbus device polling", metadata: [
            "device": "\(device.id)", "profile": "\(device.profile.id)", "bus": "\(device.bus.link)",
            "unit_id": "\(device.target.unitID)", "topic": "\(publisher.topics.meterState(device.id))",
        ])
        // Groups are polled at different intervals: the published state merges the
        // latest value of every quantity, so it always holds them all.
        var latest = Reading(device: device.id, time: .local(clock.now()))
        // A device that does not answer is polled less and less often (its timeouts
        // would hold a shared bus); `dueGroups` alone would poll it at full rate.
        var backoff = OfflinePollBackoff()
        let normalInterval = device.profile.pollIntervals.values.min() ?? 1
        var lastPoll: Date?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let held = lastPoll.map { !clock.now().isDue(after: $0, every: backoff.interval(normal: normalInterval)) } ?? false
            let due = held ? [] : await device.dueGroups()
            if !due.isEmpty {
                lastPoll = clock.now()
                do {
                    let reading = try await device.poll(groups: due)
                    latest.time = reading.time
                    for (quantity, value) in reading.values { latest.set(quantity, value) }
                    if !latest.values.isEmpty { try publisher.publish(latest) }
                } catch {
                    logger.debug("poll failed", metadata: ["device": "\(device.id)", "error": "\(error)"])
                }
                let availability = reporter.report(await device.health, at: clock.now())
                backoff.record(offline: availability == .offline)
            }
            try? await Task.sleep(for: tick)
        }
    }
}
