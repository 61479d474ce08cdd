import BridgeAlerts
import Foundation
import Testing

/// The rule engine on injected time: nothing here sleeps.
@Suite struct AlertEngineTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func engine(_ rules: [AlertRuleConfig], exclude: [String]? = nil, events: BuiltInEventsConfig? = nil,
                language: AlertLanguage = .en) throws -> AlertEngine {
        try AlertEngine(site: "home", section: AlertsSection(language: language, timeZone: "Europe/Brussels", exclude: exclude,
                                                             rules: rules, events: events), startedAt: t0)
    }

    func value(_ v: Double) -> [UInt8] { Array("\(v)".utf8) }

    static let importRule = AlertRuleConfig(id: "high_import", topic: "meter/main/power_import", above: 9000, clear: 8000,
                                            raiseAfterS: 60, clearAfterS: 120, severity: .critical)

    @Test func raisesOnlyAfterTheRaiseDelay() throws {
        var e = try engine([Self.importRule])
        #expect(e.observe(topic: "meter/main/power_import", payload: value(9500), at: t0).isEmpty)
        #expect(e.tick(at: t0 + 59).isEmpty)
        let fired = e.tick(at: t0 + 60)
        #expect(fired.count == 1)
        let alert = try #require(fired.first?.alert)
        #expect(alert.status == .firing)
        #expect(alert.labels == ["alertname": "high_import", "device": "main", "site": "home", "severity": "critical"])
        #expect(alert.id == "high_import_main")
        #expect(alert.summary == "meter/main/power_import is 9500, above 9000")
        #expect(alert.startsAt == t0 + 60)
    }

    @Test func aDipBeforeTheDelayRestartsIt() throws {
        var e = try engine([Self.importRule])
        _ = e.observe(topic: "meter/main/power_import", payload: value(9500), at: t0)
        _ = e.observe(topic: "meter/main/power_import", payload: value(8900), at: t0 + 30)
        _ = e.observe(topic: "meter/main/power_import", payload: value(9500), at: t0 + 40)
        #expect(e.tick(at: t0 + 90).isEmpty, "the delay restarts at 40 s")
        #expect(e.tick(at: t0 + 100).count == 1)
    }

    @Test func noFlappingInsideTheHysteresisAndClearsAfterTheClearDelay() throws {
        var e = try engine([Self.importRule])
        _ = e.observe(topic: "meter/main/power_import", payload: value(9500), at: t0)
        #expect(e.tick(at: t0 + 60).count == 1)
        // Between the clear level (8000) and the raise level (9000): nothing changes, however long.
        for (i, v) in [8800.0, 9100, 8500, 8999, 8001].enumerated() {
            #expect(e.observe(topic: "meter/main/power_import", payload: value(v), at: t0 + 100 + Double(i) * 100).isEmpty)
        }
        #expect(e.tick(at: t0 + 2000).isEmpty)
        // Below the clear level for less than the clear delay, then back up: still firing.
        _ = e.observe(topic: "meter/main/power_import", payload: value(7000), at: t0 + 2100)
        #expect(e.tick(at: t0 + 2219).isEmpty)
        _ = e.observe(topic: "meter/main/power_import", payload: value(8500), at: t0 + 2219)
        #expect(e.tick(at: t0 + 2400).isEmpty)
        _ = e.observe(topic: "meter/main/power_import", payload: value(7000), at: t0 + 2500)
        let cleared = e.tick(at: t0 + 2620)
        #expect(cleared.map(\.alert.status) == [.resolved])
        #expect(cleared.first?.alert.endsAt == t0 + 2620)
        #expect(e.active.isEmpty)
    }

    @Test func theFingerprintIsStableAcrossEnginesAndLeavesSeverityOut() throws {
        var a = try engine([Self.importRule])
        var b = try engine([Self.importRule])
        _ = a.observe(topic: "meter/main/power_import", payload: value(9500), at: t0)
        _ = b.observe(topic: "meter/main/power_import", payload: value(9999), at: t0 + 5)
        let fa = try #require(a.tick(at: t0 + 60).first?.alert.fingerprint)
        let fb = try #require(b.tick(at: t0 + 65).first?.alert.fingerprint)
        #expect(fa == fb)
        #expect(fa.count == 16)
        var labels = ["alertname": "high_import", "device": "main", "site": "home"]
        #expect(Alert.fingerprint(of: labels) == fa)
        labels["severity"] = "info"
        #expect(Alert.fingerprint(of: labels) == fa)
    }

    @Test func belowRulesAndJSONFields() throws {
        let rule = AlertRuleConfig(id: "low_forecast_room", topic: "control/state", field: "budget.allowed_rest_kw", below: 1,
                                   clear: 2)
        var e = try engine([rule])
        let state = #"{"budget": {"allowed_rest_kw": 0.5, "forecast_kw": 9}}"#
        let fired = e.observe(topic: "control/state", payload: Array(state.utf8), at: t0)
        #expect(fired.first?.alert.summary == "control/state budget.allowed_rest_kw is 0.5, below 1")
        #expect(fired.first?.alert.device == nil)
        #expect(e.observe(topic: "control/state", payload: Array(#"{"budget": {"allowed_rest_kw": 1.5}}"#.utf8), at: t0 + 1).isEmpty)
        #expect(e.observe(topic: "control/state", payload: Array(#"{"budget": {"allowed_rest_kw": 2}}"#.utf8), at: t0 + 2).count == 1)
        // Unreadable payloads change nothing.
        #expect(e.observe(topic: "control/state", payload: Array("{not json".utf8), at: t0 + 3).isEmpty)
        #expect(e.observe(topic: "control/state", payload: Array(#"{"budget": {"allowed_rest_kw": "x"}}"#.utf8), at: t0 + 4).isEmpty)
    }

    @Test func aUserMessageInTheSitesLanguageAndFrenchDefaults() throws {
        var custom = Self.importRule
        custom.message = "Import à {value} W"
        custom.raiseAfterS = 0
        var e = try engine([custom])
        #expect(e.observe(topic: "meter/main/power_import", payload: value(9500), at: t0).first?.alert.summary == "Import à 9500 W")
        var f = try engine([AlertRuleConfig(id: "solar", topic: "meter/pv/power_export", below: 100)], language: .fr)
        #expect(f.observe(topic: "meter/pv/power_export", payload: value(20), at: t0).first?.alert.summary
                == "meter/pv/power_export vaut 20, en dessous de 100")
    }

    @Test func wildcardRulesMakeOneAlertPerTopic() throws {
        var e = try engine([AlertRuleConfig(id: "phase_overload", topic: "meter/+/current_l1", above: 32)])
        let a = e.observe(topic: "meter/a/current_l1", payload: value(40), at: t0)
        let b = e.observe(topic: "meter/b/current_l1", payload: value(40), at: t0)
        #expect(a.first?.alert.id == "phase_overload_a")
        #expect(b.first?.alert.id == "phase_overload_b")
        #expect(a.first?.alert.fingerprint != b.first?.alert.fingerprint)
        #expect(e.observe(topic: "meter/a/current_l2", payload: value(40), at: t0).isEmpty)
    }

    @Test func aTimeWindowLimitsWhenARuleRaisesAndResolvesAtItsEnd() throws {
        // 1_800_000_000 is Friday 15 January 2027, 09:00 in Brussels (UTC+1).
        var rule = Self.importRule
        rule.raiseAfterS = 0
        rule.window = TimeWindowConfig(from: "17:00", to: "22:00", days: ["fri", "sat"])
        var e = try engine([rule])
        #expect(e.observe(topic: "meter/main/power_import", payload: value(9500), at: t0).isEmpty, "09:00: outside")
        let at17 = t0 + 8 * 3600
        #expect(e.tick(at: at17 - 1).isEmpty)
        #expect(e.tick(at: at17).map(\.alert.status) == [.firing])
        let at22 = t0 + 13 * 3600
        #expect(e.tick(at: at22).map(\.alert.status) == [.resolved], "the window closed")
        // Sunday 17:00: not one of its days.
        #expect(e.tick(at: at17 + 2 * 86_400).isEmpty)
        #expect(e.tick(at: at17 + 86_400).map(\.alert.status) == [.firing], "Saturday")
    }

    @Test func excludedDevicesNeverAlert() throws {
        var rule = Self.importRule
        rule.raiseAfterS = 0
        var e = try engine([rule, AlertRuleConfig(id: "silent", topic: "meter/main/state", noDataAfterS: 10)], exclude: ["main", "cp2"])
        #expect(e.observe(topic: "meter/main/power_import", payload: value(9500), at: t0).isEmpty)
        #expect(e.tick(at: t0 + 3600).isEmpty)
        #expect(e.observe(topic: "device/cp2/availability", payload: Array("offline".utf8), at: t0).isEmpty)
        #expect(e.observe(topic: "device/cp1/availability", payload: Array("offline".utf8), at: t0).count == 1)
        #expect(e.event("service", device: "cp2", active: true, severity: .critical, summary: "x", at: t0).isEmpty)
    }

    @Test func noDataFiresAfterSilenceFromTheStartAndClearsOnTheNextMessage() throws {
        var e = try engine([AlertRuleConfig(id: "main_silent", topic: "meter/main/state", noDataAfterS: 30)])
        #expect(e.tick(at: t0 + 29).isEmpty)
        let fired = e.tick(at: t0 + 30)
        #expect(fired.first?.alert.name == "main_silent")
        #expect(fired.first?.alert.summary == "no data on meter/main/state for 30 s")
        #expect(e.tick(at: t0 + 100).isEmpty, "fires once")
        #expect(e.observe(topic: "meter/main/state", payload: Array("{}".utf8), at: t0 + 101).map(\.alert.status) == [.resolved])
        #expect(e.tick(at: t0 + 130).isEmpty)
        #expect(e.tick(at: t0 + 131).count == 1, "silent again for 30 s")
        // A retained message being cleared is not data.
        #expect(e.observe(topic: "meter/main/state", payload: [], at: t0 + 140).isEmpty)
    }

    @Test func builtInDeviceEventsFromTheirTopics() throws {
        var e = try engine([])
        #expect(Set(e.subscriptions) == ["device/+/availability", "meter/+/tic_status", "chargepoint/+/state", "meter/+/breaker_state"])
        let lost = e.observe(topic: "device/cp1/availability", payload: Array("offline".utf8), at: t0)
        #expect(lost.first?.alert.id == "communication_lost_cp1")
        #expect(lost.first?.alert.severity == .critical)
        #expect(e.observe(topic: "device/cp1/availability", payload: Array("offline".utf8), at: t0 + 1).isEmpty, "once")
        #expect(e.observe(topic: "device/cp1/availability", payload: Array("online".utf8), at: t0 + 2).map(\.alert.status) == [.resolved])

        #expect(e.observe(topic: "meter/tic/tic_status", payload: Array("not_activated".utf8), at: t0).first?.alert.summary
                == "TIC of tic not activated")
        #expect(e.observe(topic: "meter/tic/tic_status", payload: Array("ok".utf8), at: t0 + 1).count == 1)

        let charger = #"{"status": "error", "online": true}"#
        #expect(e.observe(topic: "chargepoint/cp1/state", payload: Array(charger.utf8), at: t0).first?.alert.id == "charger_error_cp1")
        #expect(e.observe(topic: "chargepoint/cp1/state", payload: Array(#"{"status": "charging"}"#.utf8), at: t0 + 1).count == 1)

        #expect(e.observe(topic: "meter/board/breaker_state", payload: Array("0".utf8), at: t0).first?.alert.id == "breaker_tripped_board")
        #expect(e.observe(topic: "meter/board/breaker_state", payload: Array("1".utf8), at: t0 + 1).count == 1)

        var off = try engine([], events: BuiltInEventsConfig(communicationLost: false))
        #expect(off.observe(topic: "device/cp1/availability", payload: Array("offline".utf8), at: t0).isEmpty)
    }

    @Test func badRulesAreRefusedWithTheirField() {
        func problem(_ r: AlertRuleConfig) -> String? {
            do { _ = try engine([r]); return nil } catch { return "\(error)" }
        }
        #expect(problem(AlertRuleConfig(id: "x", topic: "meter/m/power", above: 10, clear: 12))?.hasPrefix("alerts.rules[0].clear") == true)
        #expect(problem(AlertRuleConfig(id: "x", topic: "meter/m/power", above: 10, below: 2))?.hasPrefix("alerts.rules[0].below") == true)
        #expect(problem(AlertRuleConfig(id: "x", topic: "meter/#")) != nil)
        #expect(problem(AlertRuleConfig(id: "X-1", topic: "meter/m/power", above: 1))?.hasPrefix("alerts.rules[0].id") == true)
        #expect(problem(AlertRuleConfig(id: "x", topic: "meter/m/power"))?.contains("no_data_after_s") == true)
        #expect(problem(AlertRuleConfig(id: "x", topic: "m", above: 1, window: TimeWindowConfig(from: "25:00", to: "01:00")))?
                .hasPrefix("alerts.rules[0].window") == true)
    }
}

@Suite struct AlertEngineDerivedValueTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // Friday 15 January 2027, 09:00 in Brussels

    func engine(_ rule: AlertRuleConfig) throws -> AlertEngine {
        try AlertEngine(site: "home", section: AlertsSection(timeZone: "Europe/Brussels", rules: [rule]), startedAt: t0)
    }

    func state(peak: Double, slider: Double) -> [UInt8] {
        Array(#"{"slider_kw": \#(slider), "budget": {"month_peak_kw": \#(peak)}}"#.utf8)
    }

    @Test func theMonthsPeakApproachingTheSlider() throws {
        var e = try engine(AlertRuleConfig(id: "peak_near_slider", topic: "control/state", field: "budget.month_peak_kw",
                                           ratioTo: "slider_kw", above: 0.9, clear: 0.85))
        #expect(e.observe(topic: "control/state", payload: state(peak: 4, slider: 5), at: t0).isEmpty, "80 %")
        let fired = e.observe(topic: "control/state", payload: state(peak: 4.6, slider: 5), at: t0 + 1)
        #expect(fired.first?.alert.summary == "control/state budget.month_peak_kw / slider_kw is 0.92, above 0.9")
        // The user raises the slider: the peak is now far from it.
        #expect(e.observe(topic: "control/state", payload: state(peak: 4.6, slider: 8), at: t0 + 2).map(\.alert.status) == [.resolved])
        #expect(e.observe(topic: "control/state", payload: state(peak: 4.6, slider: 0), at: t0 + 3).isEmpty, "no division by zero")
    }

    @Test func aDailyPeakFiresOnceADayAndResolvesAtMidnight() throws {
        var e = try engine(AlertRuleConfig(id: "daily_peak", topic: "meter/main/power_import", dailyMax: true, above: 7000))
        let topic = "meter/main/power_import"
        #expect(e.observe(topic: topic, payload: Array("5000".utf8), at: t0).isEmpty)
        let fired = e.observe(topic: topic, payload: Array("7500".utf8), at: t0 + 3600)
        #expect(fired.first?.alert.summary == "today's peak of meter/main/power_import is 7500, above 7000")
        // The power falls, but today's peak stays: no resolve, no second alert.
        #expect(e.observe(topic: topic, payload: Array("1000".utf8), at: t0 + 7200).isEmpty)
        #expect(e.tick(at: t0 + 14 * 3600).isEmpty, "23:00 the same day")
        // Midnight in Brussels: a new day.
        #expect(e.tick(at: t0 + 15 * 3600).map(\.alert.status) == [.resolved])
        #expect(e.observe(topic: topic, payload: Array("3000".utf8), at: t0 + 16 * 3600).isEmpty)
        #expect(e.observe(topic: topic, payload: Array("7100".utf8), at: t0 + 17 * 3600).count == 1, "the next day's peak")
    }

    @Test func derivedValuesNeedTheirParts() {
        #expect(throws: AlertRuleError.self) { try engine(AlertRuleConfig(id: "x", topic: "control/state", ratioTo: "slider_kw", above: 1)) }
        #expect(throws: AlertRuleError.self) { try engine(AlertRuleConfig(id: "x", topic: "m/a/b", dailyMax: true, noDataAfterS: 5)) }
    }
}

/// A restarted bridge takes over what its previous run left firing (retained MQTT state).
@Suite struct AlertEngineRestoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func previous(_ device: String, since: Date) throws -> Alert {
        var first = try AlertEngine(site: "home", section: nil, startedAt: since)
        let fired = first.observe(topic: "device/\(device)/availability", payload: Array("offline".utf8), at: since)
        let alert = try #require(fired.first?.alert)
        // Through its MQTT form, as the new run reads it.
        return try #require(AlertFormats.alert(fromMQTT: AlertFormats.mqttJSON(alert)))
    }

    @Test func stillFiringIsTakenOverWithItsStartAndNoNewNotification() throws {
        let old = try previous("cp1", since: t0 - 3600)
        var e = try AlertEngine(site: "home", section: nil, startedAt: t0)
        e.restore(old)
        #expect(e.observe(topic: "device/cp1/availability", payload: Array("offline".utf8), at: t0).isEmpty)
        #expect(e.active[old.fingerprint]?.startsAt == t0 - 3600)
        #expect(e.tick(at: t0 + 3600).isEmpty, "claimed: not resolved by the grace")
        let resolved = e.observe(topic: "device/cp1/availability", payload: Array("online".utf8), at: t0 + 3700)
        #expect(resolved.map(\.alert.status) == [.resolved])
        #expect(resolved.first?.alert.startsAt == t0 - 3600)
    }

    @Test func endedWhileTheBridgeWasDownResolvesOnItsEvent() throws {
        let old = try previous("cp1", since: t0 - 3600)
        var e = try AlertEngine(site: "home", section: nil, startedAt: t0)
        e.restore(old)
        #expect(e.observe(topic: "device/cp1/availability", payload: Array("online".utf8), at: t0).map(\.alert.fingerprint) == [old.fingerprint])
    }

    @Test func unclaimedIsResolvedAfterTheGrace() throws {
        let old = try previous("gone", since: t0 - 3600)
        var e = try AlertEngine(site: "home", section: nil, startedAt: t0)
        e.restore(old)
        #expect(e.tick(at: t0 + 59).isEmpty)
        let resolved = e.tick(at: t0 + 60)
        #expect(resolved.map(\.alert.id) == ["communication_lost_gone"])
        #expect(resolved.first?.alert.endsAt == t0 + 60)
        #expect(e.tick(at: t0 + 120).isEmpty)
    }
}
