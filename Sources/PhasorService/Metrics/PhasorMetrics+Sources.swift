import Modbus
import PhasorCore

extension PhasorMetrics {
    private static let successfulPolls = Locked<[String: Int]>([:])

    /// A Modbus device's counters after a poll (`DeviceReporter`), and the round trip
    /// of the poll when it succeeded.
    public static func recordModbus(device: String, _ s: DeviceStatistics) {
        let labels = [("device", device)]
        count("phasor_modbus_requests_total", labels, total: Double(s.requests), help: "Modbus requests sent")
        count("phasor_modbus_errors_total", labels, total: Double(s.errors), help: "Modbus requests that failed")
        count("phasor_modbus_timeouts_total", labels, total: Double(s.timeouts), help: "Modbus requests without an answer")
        count("phasor_modbus_exceptions_total", labels, total: Double(s.exceptions), help: "Modbus exception answers")
        let ok = s.polls - s.failedPolls
        let grew = successfulPolls.withLock { seen in
            defer { seen[device] = ok }
            return ok > (seen[device] ?? 0)
        }
        if grew, let duration = s.lastPollDuration {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            observe("phasor_modbus_poll_duration_seconds", labels, seconds: seconds,
                    help: "Round trip of a successful poll (all its requests)")
        }
    }

    /// A P1/TIC meter's counters (published on `meter/<id>/stats`).
    public static func recordMeter(device: String, telegrams: Int, badCRC: Int, badChecksum: Int, otherErrors: Int,
                                   sourceOpens: Int) {
        let labels = [("meter", device)]
        count("phasor_meter_telegrams_total", labels, total: Double(telegrams), help: "P1 telegrams or TIC frames published")
        count("phasor_meter_errors_total", labels + [("kind", "bad_crc")], total: Double(badCRC),
              help: "Telegrams or groups dropped, by reason")
        count("phasor_meter_errors_total", labels + [("kind", "bad_checksum")], total: Double(badChecksum),
              help: "Telegrams or groups dropped, by reason")
        count("phasor_meter_errors_total", labels + [("kind", "other")], total: Double(otherErrors),
              help: "Telegrams or groups dropped, by reason")
        count("phasor_meter_source_opens_total", labels, total: Double(sourceOpens), help: "Times the meter's source (re)opened")
    }
}
