import Control
import Foundation
import PhasorCore
import TIC
import Testing

@testable import ControlService

/// The house in control's engine (no broker): a real TIC frame's tariff signals limit the
/// cars for the cycle only, the heat pump's contacts become relay commands that repeat
/// while the gateway reports another state, and the battery is kept out of the cars.
@Suite struct HouseEngineTests {
    static let yaml = """
        budget: {slider_kw: 20, load_smoothing_seconds: 0}
        timing: {ev_response_seconds: 0, increase_interval_seconds: 0, breaker_margin_a: 0, min_run_seconds: 0, min_pause_seconds: 0}
        site:
          id: main
          current_limit: 32
          meter: linky
          charge_points:
            - {id: cp1, max_current: 16}
        house:
          heat_pump:
            relays: [sg0, sg1]
            power_w: {normal: 1000, comfort: 2000, boost: 3000}
          battery: {meter: inverter}
          tariff:
            rules:
              - {when: tempo_red_peak, heat_pump: "off", cars: solar}
        """

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../TICTests/Fixtures").standardizedFileURL

    /// The Linky Tempo frame with PTEC set to `ptec` (checksum recomputed), as a reading at `now`.
    static func ticReading(ptec: String, now: Date) throws -> Reading {
        var bytes = Array(try Data(contentsOf: fixtures.appendingPathComponent("tic-historique-mono-tempo-linky-pyteleinfo.txt")))
        let prefix = Array("\nPTEC ".utf8)
        let start = try #require(bytes.indices.first { bytes[$0...].starts(with: prefix) })
        let end = try #require(bytes[start...].firstIndex(of: 0x0D))
        let body = Array("PTEC \(ptec)".utf8)
        let sum = body.reduce(0) { $0 + Int($1) }
        bytes.replaceSubrange((start + 1)..<end, with: body + [0x20, UInt8((sum & 0x3F) + 0x20)])
        var reading = try TICParser.parse(bytes, device: "linky", receivedAt: now).reading
        // The frame is mono-phase: give control the three currents it needs, 2 A imported each.
        for p in 1...3 { reading.set(Quantity.current.phase(p), 2) }
        reading.set(.power, 1380)
        return reading
    }

    func engine(now: Date) throws -> ControlEngine {
        ControlEngine(model: try SiteModel.load(yaml: Self.yaml), state: ControlState(model: try SiteModel.load(yaml: Self.yaml)),
                      firstSequence: 1, now: now)
    }

    func plugIn(_ engine: inout ControlEngine, now: Date) {
        engine.record(charger: "cp1", ChargerSample(time: now, connected: true, currents: .zero))
        _ = engine.record(meter: "inverter", MeterSample(time: now), reading: battery(0, now: now))
    }

    func battery(_ watts: Double, now: Date) -> Reading {
        var r = Reading(device: "inverter", time: MeterTimestamp(date: now, utcOffsetSeconds: 0), values: [])
        r.set(.batteryPower, watts)
        return r
    }

    @Test func aRedPeakFrameLimitsCarsForTheCycleOnlyAndSwitchesTheHeatPumpOff() throws {
        var now = Date(timeIntervalSince1970: 1_800_000_000)
        var engine = try engine(now: now - 3600)
        plugIn(&engine, now: now)
        let blue = try Self.ticReading(ptec: "HPJB", now: now)
        _ = engine.record(meter: "linky", MeterSample(reading: blue), reading: blue)
        var decision = engine.cycle(now: now)
        #expect(decision.setpoint("cp1")?.current ?? 0 > 0, "a blue day: the car charges from the grid")
        #expect(engine.house?.last?.heatPump?.regime == .normal)

        now += 5
        let red = try Self.ticReading(ptec: "HPJR", now: now)
        _ = engine.record(meter: "linky", MeterSample(reading: red), reading: red)
        plugIn(&engine, now: now)
        decision = engine.cycle(now: now)
        #expect(decision.setpoint("cp1")?.current == 0, "a red peak: solar only, and there is no export")
        #expect(engine.state.settings.modes["cp1"] == .automatic, "the operator's mode is untouched")
        #expect(engine.house?.last?.heatPump?.regime == .off)
        #expect(engine.house?.last?.tariff.active == [.tempoRedPeak])
        // The contacts as commands: SG1 opens first, then SG0 closes (Off = 1:0).
        let commands = engine.dueRelayCommands(now: now)
        #expect(commands.map(\.id) == ["sg1", "sg0"] && commands.map(\.on) == [false, true])
    }

    @Test func relayCommandsRepeatUntilTheGatewayReportsThem() throws {
        var now = Date(timeIntervalSince1970: 1_800_000_000)
        var engine = try engine(now: now - 3600)
        plugIn(&engine, now: now)
        _ = engine.cycle(now: now)
        #expect(engine.dueRelayCommands(now: now).map(\.id) == ["sg0", "sg1"])
        now += 1
        _ = engine.cycle(now: now)
        #expect(engine.dueRelayCommands(now: now).isEmpty, "not again within the retry")
        now += 2
        _ = engine.cycle(now: now)
        #expect(engine.dueRelayCommands(now: now).count == 2, "the gateway has not reported them: again")
        engine.record(relay: "sg0", on: false)
        engine.record(relay: "sg1", on: false)
        now += 2
        _ = engine.cycle(now: now)
        #expect(engine.dueRelayCommands(now: now).isEmpty, "confirmed")
        now += 30
        _ = engine.cycle(now: now)
        #expect(engine.dueRelayCommands(now: now).count == 2, "refreshed every 30 s")
    }

    @Test func aDischargingBatteryIsNotChargedIntoTheCar() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let yaml = Self.yaml.replacingOccurrences(of: "max_current: 16}", with: "max_current: 16, mode: solar}")
        let model = try SiteModel.load(yaml: yaml)
        var engine = ControlEngine(model: model, state: ControlState(model: model), firstSequence: 1, now: now - 3600)
        engine.record(charger: "cp1", ChargerSample(time: now, connected: true, currents: .zero))
        // The grid exports 6.9 kW (above the car's 5.5 kW start minimum)… because the battery discharges 8 kW.
        func grid(at t: Date) -> Reading {
            var grid = Reading(device: "linky", time: MeterTimestamp(date: t, utcOffsetSeconds: 0), values: [])
            for p in 1...3 { grid.set(Quantity.current.phase(p), 10) }
            for p in 1...3 { grid.set(Quantity.powerExport.phase(p), 2300) }
            grid.set(.powerExport, 6900)
            return grid
        }
        _ = engine.record(meter: "linky", MeterSample(reading: grid(at: now)), reading: grid(at: now))
        _ = engine.record(meter: "inverter", MeterSample(time: now), reading: battery(8000, now: now))
        #expect(engine.cycle(now: now).setpoint("cp1")?.current == 0, "no surplus once the battery's discharge is counted")
        // The same export without the battery (after the view window): a real surplus charges it.
        let later = now + 10
        engine.record(charger: "cp1", ChargerSample(time: later, connected: true, currents: .zero))
        _ = engine.record(meter: "inverter", MeterSample(time: later), reading: battery(0, now: later))
        _ = engine.record(meter: "linky", MeterSample(reading: grid(at: later)), reading: grid(at: later))
        #expect(engine.cycle(now: later).setpoint("cp1")?.current ?? 0 > 0, "a real surplus charges it")
    }

    /// A steered battery and an export limit: the engine sends one setpoint per inverter on a
    /// change and every 10 s (the gateway holds it 60 s), and the cars see the meter as it reads.
    @Test func storageSetpointsAreSentOnChangeAndRefreshed() async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let yaml = Self.yaml
            .replacingOccurrences(of: "battery: {meter: inverter}",
                                  with: "battery: {meter: inverter, max_charge_w: 3000, max_discharge_w: 3000}\n  export_limit: {inverter: inverter, max_export_w: 3000, rated_power_w: 10000}")
            .replacingOccurrences(of: "max_current: 16}", with: "max_current: 16, mode: solar}")
        let model = try SiteModel.load(yaml: yaml)
        var engine = ControlEngine(model: model, state: ControlState(model: model), firstSequence: 1, now: now - 3600)
        func readings(at t: Date, battery: Double, output: Double) {
            var grid = Reading(device: "linky", time: MeterTimestamp(date: t, utcOffsetSeconds: 0), values: [])
            for p in 1...3 { grid.set(Quantity.current.phase(p), 10) }
            for p in 1...3 { grid.set(Quantity.powerExport.phase(p), 2300) }
            grid.set(.powerExport, 6900)
            var inv = Reading(device: "inverter", time: MeterTimestamp(date: t, utcOffsetSeconds: 0), values: [])
            inv.set(.batteryPower, battery)
            inv.set(.batterySoC, 50)
            inv.set(.inverterPower, output)
            _ = engine.record(meter: "inverter", MeterSample(time: t), reading: inv)
            _ = engine.record(meter: "linky", MeterSample(reading: grid), reading: grid)
            engine.record(charger: "cp1", ChargerSample(time: t, connected: false, currents: .zero))
        }
        // Exporting 6.9 kW with the inverter giving 8 kW and the battery discharging 2 kW.
        readings(at: now, battery: 2000, output: 8000)
        _ = engine.cycle(now: now)
        let first = engine.dueInverterSetpoints(now: now)
        #expect(first.count == 1, "one message for the hybrid inverter")
        let sp = try #require(first.first?.setpoint)
        #expect(sp.device == "inverter" && sp.hasPowerLimit)
        // 6.9 kW export, aim 2.9 kW: the output must drop by 4 kW.
        #expect(sp.activePowerLimitW == 4000, "\(sp)")
        #expect(sp.batteryMaxDischargeW == 0, "nothing to cover: the house exports")
        #expect((sp.batteryMaxChargeW ?? 0) > 0)
        // The cars' view: the meter as it reads (a steered battery is kept out by its limit).
        let view = try #require(engine.house).measurementsForCars(engine.measurements, model: model, now: now)
        #expect(view.meters["linky"]?.power == -5900,
                "the meter (−6.9 kW) and the heat pump's step just decided (1 kW pending), without the battery's 2 kW added back")

        readings(at: now + 1, battery: 2000, output: 8000)
        _ = engine.cycle(now: now + 1)
        #expect(engine.dueInverterSetpoints(now: now + 1).isEmpty, "unchanged: not sent again at once")
        readings(at: now + 11, battery: 2000, output: 8000)
        _ = engine.cycle(now: now + 11)
        let refreshed = engine.dueInverterSetpoints(now: now + 11)
        #expect(refreshed.count == 1 && refreshed[0].sequence > first[0].sequence, "sent again after 10 s")

        // control/state shows both, valid against its schema.
        let decision = engine.cycle(now: now + 12)
        let state = ControlStatePayload.encode(engine: engine, decision: decision, now: now + 12)
        let house = try #require((try JSONSerialization.jsonObject(with: Data(state)) as? [String: Any])?["house"] as? [String: Any])
        #expect((house["export_limit"] as? [String: Any])?["reason"] != nil)
        #expect((house["battery"] as? [String: Any])?["discharge_reason"] as? String == "no_import")
        if let result = try await validate([state], against: "control-state.schema.json") {
            #expect(result.status == 0, "\(result.output)")
        }
    }

    /// `relay/<id>/applied`: a boiler switched on for the surplus whose command the gateway
    /// could not write is not counted on. Its power is not handed out again as surplus (the
    /// heat pump steps up for the real export only), the cars see it as drawing (worst case,
    /// until the gateway reports the relay), and control/state says why.
    @Test func aRelayWhoseCommandFailedIsNotCountedOnUntilTheGatewayReportsIt() async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let yaml = Self.yaml
            .replacingOccurrences(of: "power_w: {normal: 1000, comfort: 2000, boost: 3000}",
                                  with: "power_w: {normal: 1000, comfort: 1500, boost: 2000}\n    comfort_export_w: 1000\n    boost_export_w: 3500\n    dwell_seconds: {normal: 0, comfort: 0, boost: 0}\n    hold_down_seconds: 0")
            .replacingOccurrences(of: "  battery: {meter: inverter}\n", with: "")
            .replacingOccurrences(of: "  tariff:", with: "  priorities: [boiler, heat_pump, cars]\n  relays:\n    - {id: boiler, power_w: 2000, phases: 1, phase: 1, min_on_seconds: 0, min_off_seconds: 0}\n  tariff:")
        let model = try SiteModel.load(yaml: yaml)
        var engine = ControlEngine(model: model, state: ControlState(model: model), firstSequence: 1, now: now - 3600)
        /// The main meter exporting `watts`, balanced.
        func export(_ watts: Double, at t: Date) {
            var grid = Reading(device: "linky", time: MeterTimestamp(date: t, utcOffsetSeconds: 0), values: [])
            for p in 1...3 { grid.set(Quantity.current.phase(p), watts / 690) }
            for p in 1...3 { grid.set(Quantity.powerExport.phase(p), watts / 3) }
            grid.set(.powerExport, watts)
            _ = engine.record(meter: "linky", MeterSample(reading: grid), reading: grid)
            engine.record(charger: "cp1", ChargerSample(time: t, connected: false, currents: .zero))
        }
        // 4 kW of export: the boiler (first in the order) takes 2 kW of it.
        export(4000, at: now)
        _ = engine.cycle(now: now)
        #expect(engine.house?.last?.relays.first?.on == true)
        #expect(engine.dueRelayCommands(now: now).contains { $0.id == "boiler" && $0.on })

        // The gateway could not write it: the meter still shows the 4 kW export.
        engine.record(relayAnswer: "boiler", result: "failed", on: true, reason: "write failed: timeout", time: now + 1)
        for t in 2...6 {
            export(4000, at: now + Double(t))
            _ = engine.cycle(now: now + Double(t))
        }
        // With the boiler believed on, the heat pump would see 4 + 2 = 6 kW: Boost. It sees
        // the 4 kW there is, less the boiler's share still wanted: Comfort.
        let hp = try #require(engine.house?.last?.heatPump)
        #expect(hp.wanted == .comfort, "the heat pump wants \(hp.wanted): \(hp.reason)")
        // The cars count the boiler as drawing: its 2 kW on L1 (8.7 A) in their view.
        /// What the cars' view adds on L1 beyond what it adds on L2 (a heat-pump step just
        /// decided is pending on all three), A.
        func boilerInView(at t: Date) throws -> Double {
            let view = try #require(engine.house).measurementsForCars(engine.measurements, model: model, now: t)
            let added = try #require(view.meters["linky"]?.currents) - (try #require(engine.measurements.meters["linky"]?.currents))
            return added[0] - added[1]
        }
        #expect(abs(try boilerInView(at: now + 6) - 2000 / 230) < 0.01)
        // control/state shows the refusal, valid against its schema.
        let decision = engine.cycle(now: now + 7)
        let state = ControlStatePayload.encode(engine: engine, decision: decision, now: now + 7)
        let house = try #require((try JSONSerialization.jsonObject(with: Data(state)) as? [String: Any])?["house"] as? [String: Any])
        let refused = try #require((house["refused"] as? [[String: Any]])?.first)
        #expect(refused["id"] as? String == "boiler" && refused["result"] as? String == "failed"
                && refused["reason"] as? String == "write failed: timeout" && refused["on"] as? Bool == true)
        if let result = try await validate([state], against: "control-state.schema.json") {
            #expect(result.status == 0, "\(result.output)")
        }

        // The gateway reports the relay (a later write went through): known again.
        engine.record(relay: "boiler", on: true)
        #expect(engine.house?.refusals.isEmpty == true)
        #expect(abs(try boilerInView(at: now + 7)) < 0.01)
    }
}
