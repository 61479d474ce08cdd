import Foundation

/// One thing wrong with a site configuration, located by its path in the file.
public struct SiteConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Path as written in YAML: `site`, `panels`, `0`, `meter`…
    public var path: [String]
    public var message: String

    public var description: String { "\(renderedPath): \(message)" }

    /// `site.panels[0].meter`
    public var renderedPath: String {
        var out = ""
        for part in path {
            if Int(part) != nil { out += "[\(part)]" } else { out += out.isEmpty ? part : ".\(part)" }
        }
        return out
    }

    /// The path as coding keys, so the strict YAML loader can point at the offending line.
    var codingPath: [any CodingKey] { path.map { PathKey($0) } }
}

private struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ part: String) {
        stringValue = part
        intValue = Int(part)
    }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(String(intValue)) }
}

/// The rules a site tree must obey before control may run on it.
///
/// Refusing a doubtful configuration is the safe choice: a virtual meter over a
/// panel with other loads would under-count, a charge point deeper than level 4
/// means the tree was drawn wrong.
enum SiteConfigValidation {
    static let maxPanelLevel = 3

    static func firstProblem(in config: SiteConfig) -> SiteConfigError? {
        var v = Walker()
        v.check(config)
        return v.problems.first
    }

    static func problems(in config: SiteConfig) -> [SiteConfigError] {
        var v = Walker()
        v.check(config)
        return v.problems
    }

    private struct Walker {
        var problems: [SiteConfigError] = []
        var seenIDs: Set<String> = []

        mutating func fail(_ path: [String], _ message: String) {
            problems.append(SiteConfigError(path: path, message: message))
        }

        mutating func check(_ config: SiteConfig) {
            if !(config.voltage > 100 && config.voltage < 300) { fail(["voltage"], "must be a phase voltage (100–300 V)") }
            checkBudget(config.budget)
            checkTiming(config.timing)
            checkPanel(config.site, path: ["site"], level: 1)
            if let house = config.house {
                problems += HouseConfigValidation.problems(in: house, site: config)
            }
        }

        mutating func checkBudget(_ b: BudgetConfig) {
            if !(b.sliderKW > 0) { fail(["budget", "slider_kw"], "must be above 0") }
            if !(b.marginKW >= 0) { fail(["budget", "margin_kw"], "must be 0 or more") }
            if !(b.billingFloorKW >= 0) { fail(["budget", "billing_floor_kw"], "must be 0 or more") }
            if !(b.loadSmoothingSeconds >= 0) { fail(["budget", "load_smoothing_seconds"], "must be 0 or more") }
            if !(b.quarterAverageRepeatSeconds >= 0 && b.quarterAverageRepeatSeconds < 900) {
                fail(["budget", "quarter_average_repeat_seconds"], "must be between 0 and 900")
            }
            if TimeZone(identifier: b.timeZone) == nil { fail(["budget", "time_zone"], "unknown time zone '\(b.timeZone)'") }
        }

        mutating func checkTiming(_ t: TimingConfig) {
            if !(t.minRunSeconds >= 0) { fail(["timing", "min_run_seconds"], "must be 0 or more") }
            if !(t.minPauseSeconds >= 0) { fail(["timing", "min_pause_seconds"], "must be 0 or more") }
            if !(t.hysteresisA >= 0) { fail(["timing", "hysteresis_a"], "must be 0 or more") }
            if !(t.phaseSwitchSeconds >= 0) { fail(["timing", "phase_switch_seconds"], "must be 0 or more") }
            if !(t.evResponseSeconds >= 0 && t.evResponseSeconds <= 60) {
                fail(["timing", "ev_response_seconds"], "must be between 0 and 60")
            }
            if !(t.increaseIntervalSeconds >= 0) { fail(["timing", "increase_interval_seconds"], "must be 0 or more") }
            if !(t.breakerMarginA >= 0 && t.breakerMarginA <= 10) { fail(["timing", "breaker_margin_a"], "must be between 0 and 10") }
            if !(t.viewWindowSeconds >= 0 && t.viewWindowSeconds <= 60) {
                fail(["timing", "view_window_seconds"], "must be between 0 and 60")
            }
            if !(t.turnSeconds >= 0) { fail(["timing", "turn_seconds"], "must be 0 or more") }
            if !(t.idleSeconds > 0) { fail(["timing", "idle_seconds"], "must be more than 0") }
        }

        mutating func claim(_ id: String, at path: [String]) {
            if id.isEmpty { fail(path + ["id"], "must not be empty") }
            if !seenIDs.insert(id).inserted { fail(path + ["id"], "'\(id)' is used twice; ids must be unique") }
        }

        mutating func checkPanel(_ panel: PanelConfig, path: [String], level: Int) {
            claim(panel.id, at: path)
            if level > SiteConfigValidation.maxPanelLevel {
                fail(path, "panels go at most \(SiteConfigValidation.maxPanelLevel) levels deep (charge points are level 4)")
            }
            let limit = panel.currentLimit.amperes
            if !(limit.min() > 0) { fail(path + ["current_limit"], "every phase limit must be above 0 A") }
            if let p = panel.powerLimitKW, !(p > 0) { fail(path + ["power_limit_kw"], "must be above 0") }
            if !(panel.meterTimeoutSeconds > 0) { fail(path + ["meter_timeout_seconds"], "must be above 0") }
            if panel.meter == .virtual, let realBelow = Self.firstRealMeter(below: panel) {
                fail(
                    path + ["meter"],
                    "a virtual meter sums charge points only, but panel '\(realBelow)' below has its own loads")
            }
            if panel.panels.isEmpty && panel.chargePoints.isEmpty && panel.meter == .virtual {
                fail(path + ["meter"], "a virtual meter needs charge points below it")
            }
            for (i, child) in panel.panels.enumerated() {
                checkPanel(child, path: path + ["panels", String(i)], level: level + 1)
            }
            for (i, cp) in panel.chargePoints.enumerated() {
                checkChargePoint(cp, path: path + ["charge_points", String(i)])
            }
        }

        /// A panel with a real meter below a virtual one has loads a sum of charge points would miss.
        static func firstRealMeter(below panel: PanelConfig) -> String? {
            for child in panel.panels {
                if child.meter != .virtual { return child.id }
                if let deeper = firstRealMeter(below: child) { return deeper }
            }
            return nil
        }

        mutating func checkChargePoint(_ cp: ChargePointConfig, path: [String]) {
            claim(cp.id, at: path)
            if !(1...3).contains(cp.phases) { fail(path + ["phases"], "must be 1, 2 or 3") }
            if cp.phaseSwitching && cp.phases != 3 { fail(path + ["phase_switching"], "needs a three-phase charger (phases: 3)") }
            if !(cp.minCurrent > 0) { fail(path + ["min_current"], "must be above 0 A") }
            if !(cp.maxCurrent >= cp.minCurrent) { fail(path + ["max_current"], "must be at least min_current") }
            if let b = cp.startBufferA, !(b >= 0) { fail(path + ["start_buffer_a"], "must be 0 or more") }
            if !(cp.safeCurrent >= 0 && cp.safeCurrent <= cp.maxCurrent) {
                fail(path + ["safe_current"], "must be between 0 and max_current")
            }
            if let m = cp.manualCurrent, !(m >= cp.minCurrent && m <= cp.maxCurrent) {
                fail(path + ["manual_current"], "must be between min_current and max_current")
            }
            if cp.mode == .manual && cp.manualCurrent == nil {
                fail(path + ["manual_current"], "manual mode needs a manual current")
            }
            if !(cp.chargerTimeoutSeconds > 0) { fail(path + ["charger_timeout_seconds"], "must be above 0") }
            if !(cp.currentStep > 0 && cp.currentStep <= 1) { fail(path + ["current_step"], "must be above 0 and at most 1 A") }
        }
    }
}
