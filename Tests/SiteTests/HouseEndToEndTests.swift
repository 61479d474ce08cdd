import DeviceSimulators
import Foundation
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// Issue 11 end to end: a P1 meter on a socat pty, an SG-Ready heat pump on the two relay
/// outputs (holding registers 0 and 1) of a Modbus I/O module simulated over TCP, the real
/// `phasor-gateway` and `phasor-control` on mosquitto. A PV step (export in the P1
/// telegrams) drives Normal → Comfort → Boost through the dwell times and a cloud brings it
/// back; the gateway writes the contacts; when control stops, the relays return to their
/// default (both off = Normal).
///
/// The executables run on the wall clock, so the dwell times are configured short here
/// (3 / 6 / 3 s, 2 s down); the datasheet values are tested on virtual time
/// (HeatPumpRegimeTests, HousePlannerTests, HouseDayTests). No shipped profile serves
/// coils except a charger's enable coil, so the I/O module is a `generic` device whose
/// relays are holding registers (`register:` in `modbus.relays`).
@Suite(.serialized, .endToEnd) struct HouseEndToEndTests {
    @Test func aPVStepDrivesTheHeatPumpUpThroughItsDwellTimesAndBackThroughTheGateway() async throws {
        let pty = try await SocatPTYPair.start()
        let library = ProfileLibrary.load()
        let rows = [
            GenericRegister(quantity: "relay_state_1", function: 3, register: RegisterAddress(0), words: 1, factor: 1),
            GenericRegister(quantity: "relay_state_2", function: 3, register: RegisterAddress(1), words: 1, factor: 1),
        ]
        let simulator = ModbusSimulator()
        try simulator.add(try GenericMeter.profile(id: "hpio", registers: rows, base: try #require(library["generic"])), unitID: 1)
        let modbusPort = try simulator.startTCP()
        let run = try await HouseExecutables.start(site: "house\(UUID().uuidString.prefix(8))", yaml: """
            meters:
              - {id: p1, type: p1, source: \(pty.second)}
            modbus:
              devices:
                - {id: hpio, profile: generic, host: 127.0.0.1, port: \(modbusPort), unit_id: 1, registers: [{quantity: relay_state_1, function: 3, register: 0, words: 1, factor: 1}, {quantity: relay_state_2, function: 3, register: 1, words: 1, factor: 1}]}
              relays:
                - {id: hp_sg0, device: hpio, register: 0, default: "off"}
                - {id: hp_sg1, device: hpio, register: 1, default: "off"}
            control:
              site: {id: main, current_limit: 32, meter: p1}
              house:
                heat_pump:
                  relays: [hp_sg0, hp_sg1]
                  power_w: {normal: 1000, comfort: 2000, boost: 3000}
                  comfort_export_w: 1000
                  boost_export_w: 2500
                  dwell_seconds: {normal: 3, comfort: 6, boost: 3}
                  hold_down_seconds: 2
                  step_down_delay_seconds: 2

            """)
        let (topics, messages, control) = (run.topics, run.messages, run.control)
        func logs() -> String { run.logs() }
        let meter = try SimulatedP1Meter(template: try SiteRig.fixture("dsmr5-belgium-fluvius-v171-dsmrparser.txt"))
        let line = try SerialLineWriter(path: pty.first)
        defer { simulator.stop() }

        /// Relay states as the gateway reported them: (time, sg0, sg1) after each report.
        func contacts() -> [(time: Date, regime: Int, source: String)] {
            var sg0 = false, sg1 = false
            var out: [(time: Date, regime: Int, source: String)] = []
            let all = messages.on(topics.relayState("hp_sg0")) + messages.on(topics.relayState("hp_sg1"))
            let states = all.compactMap { m -> (Date, String, Bool, String)? in
                guard let o = try? JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any],
                    let id = o["id"] as? String, let on = o["on"] as? Bool, let t = (o["time"] as? String).flatMap(ISO8601.parse),
                    let source = o["source"] as? String
                else { return nil }
                return (t.date, id, on, source)
            }.sorted { $0.0 < $1.0 }
            for (t, id, on, source) in states {
                if id == "hp_sg0" { sg0 = on } else { sg1 = on }
                // SG-Ready: 1:0 Off, 0:0 Normal, 0:1 Comfort, 1:1 Boost.
                let regime = sg0 ? (sg1 ? 3 : 0) : (sg1 ? 2 : 1)
                if out.last?.regime != regime { out.append((t, regime, source)) }
            }
            return out
        }
        var meterTime = Date()
        func telegram(_ amperes: Double) throws {
            meterTime += 1
            try line.write(meter.telegram(time: meterTime, currents: [amperes, amperes, amperes]))
        }
        /// Sends a telegram a second until `condition` holds or `seconds` pass.
        func feed(_ amperes: Double, seconds: Int, until condition: () -> Bool = { false }) async throws {
            for _ in 0..<seconds {
                try telegram(amperes)
                try await Task.sleep(for: .seconds(1))
                if condition() { return }
            }
        }
        func regime() -> Int? { contacts().last?.regime }

        do {
            // Importing 2 A per phase: Normal. The gateway's defaults (both off) are Normal
            // already, so control sends nothing new; wait until both run and control/state
            // shows the heat pump (a loaded machine may take tens of seconds to start them).
            func houseShown() -> Bool {
                messages.on(topics.controlState).last.map { $0.string.contains("\"regime\":\"normal\"") } ?? false
            }
            try await feed(2, seconds: 90) {
                messages.status(.control) == "online" && !messages.on(topics.relayState("hp_sg1")).isEmpty && houseShown()
            }
            try #require(houseShown() && !messages.on(topics.relayState("hp_sg1")).isEmpty,
                         "gateway and control running; logs: \(logs())")
            #expect(regime() == 1)

            // PV step: 8 A exported per phase (5.5 kW): Comfort, then Boost after Comfort's 6 s.
            try await feed(-8, seconds: 60) { regime() == 3 }
            try #require(regime() == 3, "reached Boost: \(contacts().map(\.regime)); logs: \(logs())")
            // A cloud: 4 A imported: Boost holds 3 s, Comfort 2 s, then Normal.
            try await feed(4, seconds: 60) { regime() == 1 }
            try #require(regime() == 1, "back to Normal: \(contacts().map(\.regime)); logs: \(logs())")

            let path = contacts()
            #expect(path.map(\.regime) == [1, 2, 3, 2, 1], "\(path.map(\.regime))")
            if path.count == 5 {
                // The gateway's clock stamps each write; 0.5 s for two relay writes in a row.
                #expect(path[2].time.timeIntervalSince(path[1].time) >= 6 - 0.5, "Comfort's dwell")
                #expect(path[3].time.timeIntervalSince(path[2].time) >= 3 - 0.5, "Boost's dwell")
                #expect(path[4].time.timeIntervalSince(path[3].time) >= 2 - 0.5, "the hold when stepping down")
            }
            // The contacts are the module's registers.
            let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: modbusPort),
                                options: BusOptions(responseTimeout: ModbusTimeout(milliseconds: 500), retry: .none))
            #expect(try await bus.readRegisters(.holdingRegisters, address: 0, count: 2, target: BusTarget(unitID: 1)) == [0, 0])
            await bus.close()

            // control/state says it, and it is valid against its schema.
            let state = try #require(messages.on(topics.controlState).last)
            let house = try #require((try JSONSerialization.jsonObject(with: Data(state.payload)) as? [String: Any])?["house"] as? [String: Any])
            #expect((house["heat_pump"] as? [String: Any])?["regime"] as? String == "normal")
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            if let result = try await SchemaValidation.validate([state.payload], against: "control-state.schema.json", repositoryRoot: root) {
                #expect(result.status == 0, "\(result.output)")
            }

            // Control stops: the gateway returns the relays to their default (Normal).
            _ = await control.terminate()
            let fellBack = await eventually(timeout: .seconds(10)) {
                messages.on(topics.relayState("hp_sg0")).last?.string.contains("\"source\":\"fallback\"") ?? false
            }
            #expect(fellBack, "logs: \(logs())")
        } catch {
            await run.stop()
            await pty.stop()
            throw error
        }
        await run.stop()
        await pty.stop()
    }
}
