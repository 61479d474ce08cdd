import Foundation
import MQTT
import PhasorCore
import Prometheus

/// The process's Prometheus registry (swift-prometheus) and the few helpers the
/// services record through. Metric names are `phasor_…`; docs/metrics.md lists them.
///
/// Most of Phasor already counts what matters (device statistics, meter
/// statistics, MQTT statistics) for its retained `…/stats` topics; `record…`
/// turns those absolute counts into Prometheus counters (adding the difference
/// since the last call), so the hooks stay one line where the stats are published.
public enum PhasorMetrics {
    public static let registry = PrometheusCollectorRegistry()
    private static let last = Locked<[String: Double]>([:])

    /// Adds to counter `name{labels}` what `total` grew by since the last call
    /// (a total that went down, after a restart of its source, counts from zero).
    public static func count(_ name: String, _ labels: [(String, String)] = [], total: Double, help: String) {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let delta: Double = last.withLock { values in
            let previous = values[key] ?? 0
            values[key] = total
            return total >= previous ? total - previous : total
        }
        // Made even at zero, so a scrape shows the counter before its first event.
        let counter = registry.makeCounter(descriptor: describe(name, help), labels: labels)
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }

    public static func increment(_ name: String, _ labels: [(String, String)] = [], by amount: Int64 = 1, help: String) {
        registry.makeCounter(descriptor: describe(name, help), labels: labels).increment(by: amount)
    }

    public static func gauge(_ name: String, _ labels: [(String, String)] = [], _ value: Double, help: String) {
        registry.makeGauge(descriptor: describe(name, help), labels: labels).set(value)
    }

    /// Durations such as a decision or a Modbus poll: 0.5 ms … 5 s.
    public static let durationBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    public static func observe(_ name: String, _ labels: [(String, String)] = [], seconds: Double, help: String) {
        registry.makeValueHistogram(descriptor: describe(name, help), labels: labels, buckets: durationBuckets)
            .record(seconds)
    }

    /// The whole name in `metricName` (units are part of Phasor's names already).
    private static func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The MQTT session's queue and counters, read at each scrape.
    public static func recordMQTT(_ client: MQTTClient) {
        let s = client.statistics
        gauge("phasor_mqtt_connected", [], client.isConnected ? 1 : 0, help: "1 while connected to the broker")
        gauge("phasor_mqtt_offline_queue_depth", [], Double(s.queuedOffline), help: "Messages waiting in the offline queue")
        count("phasor_mqtt_offline_dropped_total", total: Double(s.droppedOffline),
              help: "Messages dropped or refused because the offline queue was full")
        count("phasor_mqtt_published_total", total: Double(s.published), help: "Messages handed to the MQTT library")
        count("phasor_mqtt_received_total", total: Double(s.received), help: "Messages received")
        count("phasor_mqtt_connections_total", total: Double(s.connections), help: "Successful broker connections")
        count("phasor_mqtt_connection_failures_total", total: Double(s.connectionFailures),
              help: "Failed connection attempts and lost connections")
    }

    /// The Prometheus text exposition of everything recorded.
    public static func exposition() -> [UInt8] { registry.emitToBuffer() }
}
