import Foundation

/// The rules of `control.house`, checked while the site file is decoded (file, line and
/// field of each problem). Relay ids are checked against the gateway's `modbus.relays` by
/// `ControlSiteCheck`, which sees both sections.
enum HouseConfigValidation {
    static func problems(in house: HouseConfig, site: SiteConfig) -> [SiteConfigError] {
        var problems: [SiteConfigError] = []
        func fail(_ path: [String], _ message: String) { problems.append(SiteConfigError(path: ["house"] + path, message: message)) }
        var panels: Set<String> = []
        func collect(_ p: PanelConfig) {
            panels.insert(p.id)
            p.panels.forEach(collect)
        }
        collect(site.site)

        func checkID(_ id: String, _ path: [String]) {
            if id.isEmpty || !id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                fail(path, "'\(id)': use letters, digits, '_' or '-' (it becomes a topic level)")
            }
            if id == HouseConfig.carsEntry || id == HouseConfig.batteryEntry {
                fail(path, "'\(id)' is a word of `priorities`; choose another id")
            }
        }
        func isTopicSafe(_ id: String) -> Bool {
            !id.isEmpty && id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        }
        func checkWiring(_ w: LoadWiring, _ path: [String]) {
            if let p = w.panel, !panels.contains(p) { fail(path + ["panel"], "no panel '\(p)' in control.site") }
            if w.phases != 1 && w.phases != 3 { fail(path + ["phases"], "\(w.phases): use 1 or 3") }
            if !(1...3).contains(w.phase) { fail(path + ["phase"], "\(w.phase): use 1, 2 or 3 (L1…L3)") }
            if w.phases == 3 && w.phase != 1 { fail(path + ["phase"], "only for a single-phase load (phases: 1)") }
        }
        var loadIDs: [String] = []
        var relayIDs: [String] = []

        if let hp = house.heatPump {
            let path = ["heat_pump"]
            checkID(hp.id, path + ["id"])
            loadIDs.append(hp.id)
            if hp.relays.count != 2 {
                fail(path + ["relays"], "give two relay ids: relay 1 drives SG0, relay 2 SG1")
            } else if hp.relays[0] == hp.relays[1] {
                fail(path + ["relays"], "SG0 and SG1 need two different relays")
            }
            relayIDs += hp.relays
            checkWiring(hp.wiring, path)
            if let regimes = hp.regimes {
                if !regimes.contains(.normal) { fail(path + ["regimes"], "normal is every heat pump's own regulation: list it") }
                if Set(regimes).count != regimes.count { fail(path + ["regimes"], "a regime is listed twice") }
            }
            if hp.powerW[.normal] == nil { fail(path + ["power_w"], "give at least the power of normal, W") }
            for (regime, w) in hp.powerW where !(w >= 0 && w <= 50_000) {
                fail(path + ["power_w", regime.name], "must be between 0 and 50000 W")
            }
            let powers = HeatPumpRegime.allCases.map { hp.power($0) }
            if zip(powers, powers.dropFirst()).contains(where: { $0 > $1 }) {
                fail(path + ["power_w"], "a higher regime cannot draw less than a lower one")
            }
            if !(hp.comfortExportW > 0) { fail(path + ["comfort_export_w"], "must be above 0 W") }
            if !(hp.boostExportW > hp.comfortExportW) { fail(path + ["boost_export_w"], "must be above comfort_export_w") }
            if !(hp.hysteresisW >= 0 && hp.hysteresisW < hp.comfortExportW) {
                fail(path + ["hysteresis_w"], "must be 0 or more and below comfort_export_w")
            }
            for (regime, s) in hp.dwellSeconds ?? [:] where !(s >= 0 && s <= 86_400) {
                fail(path + ["dwell_seconds", regime.name], "must be between 0 and 86400 s")
            }
            if !(hp.holdDownSeconds >= 0) { fail(path + ["hold_down_seconds"], "must be 0 or more") }
            if !(hp.stepDownDelaySeconds >= 0 && hp.stepDownDelaySeconds.isFinite) {
                fail(path + ["step_down_delay_seconds"], "must be 0 or more")
            }
            if !(hp.maxOffSeconds > 0 && hp.maxOffSeconds <= 7200) {
                fail(path + ["max_off_seconds"], "must be above 0 and at most 7200 s (Off lasts at most 2 h)")
            }
            if !(hp.normalAfterOffSeconds >= 0) { fail(path + ["normal_after_off_seconds"], "must be 0 or more") }
        }
        for (i, r) in house.relays.enumerated() {
            let path = ["relays", String(i)]
            checkID(r.id, path + ["id"])
            if loadIDs.contains(r.id) || relayIDs.contains(r.id) {
                fail(path + ["id"], "'\(r.id)' is used twice (a relay drives one load)")
            }
            loadIDs.append(r.id)
            relayIDs.append(r.id)
            checkWiring(r.wiring, path)
            if !(r.powerW > 0 && r.powerW <= 50_000) { fail(path + ["power_w"], "must be above 0 and at most 50000 W") }
            if let on = r.onSurplusW, !(on > 0) { fail(path + ["on_surplus_w"], "must be above 0 W") }
            if !(r.hysteresisW >= 0 && r.hysteresisW < r.onThresholdW) {
                fail(path + ["hysteresis_w"], "must be 0 or more and below the on threshold (\(Int(r.onThresholdW)) W)")
            }
            if !(r.minOnSeconds >= 0) { fail(path + ["min_on_seconds"], "must be 0 or more") }
            if !(r.minOffSeconds >= 0) { fail(path + ["min_off_seconds"], "must be 0 or more") }
            for (t, w) in r.timers.enumerated() where w.from == w.to {
                fail(path + ["timers", String(t)], "from and to are equal: the window would be empty")
            }
        }
        if let b = house.battery {
            if b.meter.isEmpty { fail(["battery", "meter"], "name the device whose readings carry battery_power") }
            if b.phases != 1 && b.phases != 3 { fail(["battery", "phases"], "\(b.phases): use 1 or 3") }
            if (b.maxChargeW == nil) != (b.maxDischargeW == nil) {
                fail(["battery", b.maxChargeW == nil ? "max_charge_w" : "max_discharge_w"], "give max_charge_w and max_discharge_w together (control then steers the battery)")
            }
            for (key, v) in [("max_charge_w", b.maxChargeW), ("max_discharge_w", b.maxDischargeW)] {
                if let v, !(v > 0 && v <= 100_000) { fail(["battery", key], "must be above 0 and at most 100000 W") }
            }
            if !(b.minSoC >= 0 && b.minSoC < b.maxSoC && b.maxSoC <= 100) {
                fail(["battery", "min_soc"], "need 0 ≤ min_soc < max_soc ≤ 100 (%)")
            }
            if let r = b.reserveSoC, !(r >= b.minSoC && r <= b.maxSoC) {
                fail(["battery", "reserve_soc"], "must lie between min_soc (\(Int(b.minSoC)) %) and max_soc (\(Int(b.maxSoC)) %)")
            }
            if let d = b.device, !isTopicSafe(d) { fail(["battery", "device"], "'\(d)': use letters, digits, '_' or '-'") }
        }
        if let e = house.exportLimit {
            if !isTopicSafe(e.inverter) { fail(["export_limit", "inverter"], "'\(e.inverter)': use letters, digits, '_' or '-'") }
            if !(e.ratedPowerW > 0 && e.ratedPowerW <= 1_000_000) {
                fail(["export_limit", "rated_power_w"], "must be above 0 and at most 1000000 W")
            }
            if !(e.maxExportW >= 0 && e.maxExportW <= 1_000_000) {
                fail(["export_limit", "max_export_w"], "must be 0 (zero export) or more, at most 1000000 W")
            }
            if !(e.marginW >= 0 && e.marginW <= 5000) { fail(["export_limit", "margin_w"], "must be 0…5000 W") }
            if !(e.settleSeconds >= 1 && e.settleSeconds <= 120) {
                fail(["export_limit", "settle_seconds"], "must be 1…120 s (the inverter's response and a meter reading)")
            }
        }
        let words = Set(loadIDs + [HouseConfig.carsEntry, HouseConfig.batteryEntry])
        for (i, entry) in house.priorities.enumerated() {
            if !words.contains(entry) {
                fail(["priorities", String(i)], "'\(entry)': use the heat pump's id, a relay id, cars or battery")
            }
            if house.priorities.firstIndex(of: entry) != i { fail(["priorities", String(i)], "'\(entry)' is listed twice") }
        }
        for (i, rule) in (house.tariff?.rules ?? []).enumerated() {
            let path = ["tariff", "rules", String(i)]
            for id in rule.relaysOff + rule.relaysOn where id != "all" && !house.relays.contains(where: { $0.id == id }) {
                fail(path, "no relay '\(id)' in house.relays")
            }
            if rule.relaysOn.contains("all") { fail(path + ["relays_on"], "name the relays to force on") }
            if rule.heatPump != nil && house.heatPump == nil { fail(path + ["heat_pump"], "no heat_pump is configured") }
            if rule.heatPump == nil && rule.relaysOff.isEmpty && rule.relaysOn.isEmpty && rule.cars == nil {
                fail(path, "the rule does nothing: give heat_pump, relays_off, relays_on or cars")
            }
        }
        return problems
    }
}
