import DeviceSimulators
import Foundation
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// The battery's limits end to end: a P1 meter on a socat pty, a Huawei hybrid (its battery
/// limits at 47075 / 47077) simulated over Modbus TCP, the real `phasor-gateway` and
/// `phasor-control` on mosquitto. The loop is closed by the test: each second the simulated
/// battery runs its own self-consumption (it covers the import, it charges from the export,
/// within its 5 kW) under the limits it has applied, and the telegram carries the house minus
/// the sun minus the battery. Control discharges it for the house's own 3 kW only, then, in
/// the sun, lets it charge from the export; the gateway writes each limit, answers
/// `applied`, the battery follows; when control stops the gateway writes the maxima back.
///
/// The quarter-hour peak discharge (`peak`) depends on where the wall clock stands in the
/// quarter, so it runs on virtual time on the plant (`HouseStorageTests`); here the limits
/// it travels with take the same path.
@Suite(.serialized, .endToEnd) struct BatteryEndToEndTests {
    @Test func batteryLimitsGoThroughTheGatewayToTheInverterAndTheMaximaWhenControlStops() async throws {
        let pty = try await SocatPTYPair.start()
        let library = ProfileLibrary.load()
        let simulator = ModbusSimulator()
        try simulator.add(try #require(library["huawei_sun2000"]), unitID: 1)
        simulator.override(unitID: 1, .batterySoC, 50)
        var houseW = 3000.0
        var pvW = 0.0
        /// The battery's own self-consumption, + = discharge (the simulator caps it by the limits in force).
        func ownBattery() {
            simulator.override(unitID: 1, .pvPower, pvW)
            simulator.override(unitID: 1, .batteryPower, min(5000, max(-5000, houseW - pvW)))
        }
        ownBattery()
        let modbusPort = try simulator.startTCP()
        let run = try await HouseExecutables.start(site: "battery\(UUID().uuidString.prefix(8))", yaml: """
            meters:
              - {id: p1, type: p1, source: \(pty.second)}
            modbus:
              devices:
                - id: hybrid
                  profile: huawei_sun2000
                  host: 127.0.0.1
                  port: \(modbusPort)
                  unit_id: 1
                  setpoints: {battery_max_charge_w: 5000, battery_max_discharge_w: 5000}
            control:
              budget: {slider_kw: 5}
              site: {id: main, current_limit: 32, meter: p1}
              house:
                battery: {meter: hybrid, max_charge_w: 5000, max_discharge_w: 5000, min_soc: 10}

            """)
        let (topics, messages, control) = (run.topics, run.messages, run.control)
        func logs() -> String { run.logs() }
        let meter = try SimulatedP1Meter(template: try SiteRig.fixture("dsmr5-belgium-fluvius-v171-dsmrparser.txt"))
        let line = try SerialLineWriter(path: pty.first)
        defer { simulator.stop() }
        func applied() -> [[String: Any]] { run.inverterApplied("hybrid") }
        func register(_ address: UInt16) async throws -> Double? {
            let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: modbusPort),
                                options: BusOptions(responseTimeout: ModbusTimeout(milliseconds: 500), retry: .none))
            defer { Task { await bus.close() } }
            let words = try await bus.readRegisters(.holdingRegisters, address: address, count: 2, target: BusTarget(unitID: 1))
            return Double(UInt32(words[0]) << 16 | UInt32(words[1]))
        }
        /// Import (W) each telegram carried and the battery's power then.
        var imports: [(watts: Double, batteryW: Double)] = []
        var meterTime = Date()
        func feed(seconds: Int, until condition: () -> Bool = { false }) async throws {
            for _ in 0..<seconds {
                ownBattery()
                let battery = simulator.values(unitID: 1)[.batteryPower] ?? 0
                let grid = houseW - pvW - battery
                meterTime += 1
                imports.append((grid, battery))
                try line.write(meter.telegram(time: meterTime, currents: Array(repeating: grid / 690, count: 3)))
                try await Task.sleep(for: .seconds(1))
                if condition() { return }
            }
        }

        try await run.stopping(pty) {
            // The gateway writes the battery's maxima at start, then control's limits arrive.
            try await feed(seconds: 90) {
                applied().contains { $0["result"] as? String == "applied" && $0["battery_max_discharge_w"] != nil }
            }
            try #require(applied().first?["result"] as? String == "fallback", "logs: \(logs())")
            try #require(applied().contains { $0["result"] as? String == "applied" }, "control's setpoints arrive; logs: \(logs())")

            // The house's own import: the discharge limit is what the house draws (3 kW), not
            // the battery's 5 kW; nothing to charge from.
            try await feed(seconds: 30)
            let last = try #require(applied().last { $0["result"] as? String == "applied" })
            let discharge = try #require(last["battery_max_discharge_w"] as? Double)
            #expect(abs(discharge - 3000) < 300, "discharge limit \(discharge) W; logs: \(logs())")
            #expect(last["battery_max_charge_w"] as? Double == 0, "no surplus to charge from: \(last)")
            #expect(try await register(47077) == discharge, "the register holds what the gateway applied")
            #expect(try await register(47075) == 0)
            #expect(imports.suffix(5).allSatisfy { abs($0.batteryW - discharge) < 300 },
                    "the battery follows: \(imports.suffix(5).map { Int($0.batteryW) })")
            var state = try #require(messages.on(topics.controlState).last).string
            #expect(state.contains("\"discharge_reason\":\"self_consumption\""), "\(state)")

            // The sun: 5 kW against 1 kW of house. The battery may charge from the export
            // (4 kW with its charging), nothing to discharge for. The hybrid's report is polled
            // every 10 s, the meter every second: once raised, the charge limit holds (a fall
            // waits for a report taken after the battery followed) rather than swinging
            // between the surplus and nothing. The first seconds are control's reaction.
            pvW = 5000
            houseW = 1000
            try await feed(seconds: 8)
            let mark = applied().count
            try await feed(seconds: 30)
            let sunny = applied().dropFirst(mark).filter { $0["result"] as? String == "applied" }
            let charges = sunny.compactMap { $0["battery_max_charge_w"] as? Double }
            #expect(!charges.isEmpty && charges.allSatisfy { $0 > 0 && $0 <= 5000 }, "\(sunny); logs: \(logs())")
            #expect(sunny.allSatisfy { $0["battery_max_discharge_w"] as? Double == 0 }, "\(sunny)")
            let written = try await register(47075)
            #expect(written.map { w in charges.contains(w) } ?? false, "register \(String(describing: written)) of \(charges)")
            #expect(try await register(47077) == 0)
            state = try #require(messages.on(topics.controlState).last).string
            #expect(state.contains("\"charge_reason\":\"surplus\""), "\(state)")

            // Control stops: the gateway gives the battery its maxima back.
            _ = await control.terminate()
            let fellBack = await eventually(timeout: .seconds(20)) {
                applied().last?["result"] as? String == "fallback" && applied().last?["battery_max_discharge_w"] as? Double == 5000
            }
            #expect(fellBack, "logs: \(logs())")
            #expect(try await register(47075) == 5000)
            #expect(try await register(47077) == 5000)
        }
    }
}
