import Foundation

/// The site file of an end-to-end run: one P1 meter on a pty, charge points on
/// Modbus TCP simulators, and control's tree with the main connection metered by
/// the P1 meter. Both `phasor-gateway` and `phasor-control` read it.
public struct EndToEndSite: Sendable {
    public struct ChargePoint: Sendable {
        public var id: String
        public var profile: String
        public var port: Int
        public var maxCurrent: Double
        /// Control budgets an offline charger at this; the profile's own safe current.
        public var safeCurrent: Double
        public init(id: String, profile: String, port: Int, maxCurrent: Double, safeCurrent: Double) {
            self.id = id
            self.profile = profile
            self.port = port
            self.maxCurrent = maxCurrent
            self.safeCurrent = safeCurrent
        }
    }

    public var site: String
    public var meterID = "p1"
    public var meterDevice: String
    public var mainLimit: Double
    public var chargePoints: [ChargePoint]
    /// The simulated chargers' cars follow a new limit at once: control need not wait for
    /// them (no EV response time, no spacing of increases, no window of recent house views).
    /// For the reaction benchmark, which measures the pipeline, not the cars; the end-to-end
    /// test keeps control's defaults.
    public var instantCars: Bool

    public init(site: String, meterDevice: String, mainLimit: Double, chargePoints: [ChargePoint], instantCars: Bool = false) {
        self.site = site
        self.meterDevice = meterDevice
        self.mainLimit = mainLimit
        self.chargePoints = chargePoints
        self.instantCars = instantCars
    }

    /// The quarter-hour slider is far above the breaker, so the breaker alone decides;
    /// run and pause times are zero so a car may stop and start from one telegram to the next.
    public var yaml: String {
        var lines = [
            "site: \(site)",
            "meters:",
            "  - {id: \(meterID), type: p1, source: \(meterDevice)}",
            "modbus:",
            "  devices:",
        ]
        lines += chargePoints.map { "    - {id: \($0.id), profile: \($0.profile), host: 127.0.0.1, port: \($0.port), unit_id: 1}" }
        lines += [
            "control:",
            "  preset: residential",
            "  budget: {slider_kw: 100}",
            instantCars
                ? "  timing: {min_run_seconds: 0, min_pause_seconds: 0, hysteresis_a: 1, ev_response_seconds: 0, increase_interval_seconds: 0, view_window_seconds: 0}"
                : "  timing: {min_run_seconds: 0, min_pause_seconds: 0, hysteresis_a: 1}",
            "  site:",
            "    id: main",
            "    current_limit: \(mainLimit)",
            "    meter: \(meterID)",
            "    charge_points:",
        ]
        lines += chargePoints.map {
            "      - {id: \($0.id), max_current: \($0.maxCurrent), phases: 3, safe_current: \($0.safeCurrent)}"
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the file into `folder` and returns its path.
    public func write(into folder: URL) throws -> String {
        let path = folder.appendingPathComponent("site.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
