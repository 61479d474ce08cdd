import DeviceSimulators
import Foundation
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// The export limit end to end: a P1 meter on a socat pty, a SunSpec inverter (model 123's
/// WMaxLimPct) simulated over Modbus TCP, the real `phasor-gateway` and `phasor-control` on
/// mosquitto. The loop is closed by the test: each second the P1 telegram carries the export
/// the simulated inverter produces under the limit it has applied (8 kW of sun, the house
/// 0.5 kW or 3 kW), so control's limit, the gateway's write, the inverter's 1.5 s response
/// and the meter all take part. A 3 kW export limit holds once settled; when control stops
/// the gateway writes the safe limit (3 kW).
@Suite(.serialized, .endToEnd) struct InverterEndToEndTests {
    @Test func theExportLimitHoldsThroughTheGatewayAndTheSafeLimitWhenControlStops() async throws {
        let pty = try await SocatPTYPair.start()
        let library = ProfileLibrary.load()
        let simulator = ModbusSimulator()
        try simulator.add(try #require(library["sunspec_inverter"]), unitID: 1)
        simulator.override(unitID: 1, .pvPower, 8000)
        let modbusPort = try simulator.startTCP()
        let run = try await HouseExecutables.start(site: "export\(UUID().uuidString.prefix(8))", yaml: """
            meters:
              - {id: p1, type: p1, source: \(pty.second)}
            modbus:
              devices:
                - id: pv
                  profile: sunspec_inverter
                  host: 127.0.0.1
                  port: \(modbusPort)
                  unit_id: 1
                  setpoints: {active_power_max_w: 10000, active_power_safe_w: 3000}
            control:
              site: {id: main, current_limit: 32, meter: p1}
              house:
                export_limit: {inverter: pv, max_export_w: 3000, rated_power_w: 10000, settle_seconds: 2}

            """)
        let (topics, messages, control) = (run.topics, run.messages, run.control)
        func logs() -> String { run.logs() }
        let meter = try SimulatedP1Meter(template: try SiteRig.fixture("dsmr5-belgium-fluvius-v171-dsmrparser.txt"))
        let line = try SerialLineWriter(path: pty.first)
        defer { simulator.stop() }
        func applied() -> [[String: Any]] {
            messages.on(topics.inverterApplied("pv")).compactMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] }
        }
        /// Export (W) a telegram carried, by time.
        var exports: [(time: Date, watts: Double)] = []
        var meterTime = Date()
        var houseW = 500.0
        /// One telegram a second with what the inverter gives now minus the house.
        func feed(seconds: Int, until condition: () -> Bool = { false }) async throws {
            for _ in 0..<seconds {
                let pv = simulator.values(unitID: 1)[.pvPower] ?? 0
                let export = pv - houseW
                meterTime += 1
                exports.append((Date(), export))
                try line.write(meter.telegram(time: meterTime, currents: Array(repeating: -export / 690, count: 3)))
                try await Task.sleep(for: .seconds(1))
                if condition() { return }
            }
        }

        do {
            // The gateway writes the safe limit at start: 3 kW (30 %).
            try await feed(seconds: 90) { applied().contains { $0["result"] as? String == "applied" } }
            try #require(applied().first?["result"] as? String == "fallback", "logs: \(logs())")
            try #require(applied().contains { $0["result"] as? String == "applied" }, "control's setpoints arrive; logs: \(logs())")

            // Settling: control raises the limit until the export sits under 3 kW.
            try await feed(seconds: 40)
            let settled = exports.suffix(10)
            #expect(settled.allSatisfy { $0.watts <= 3000 && $0.watts > 2000 }, "\(settled.map { Int($0.watts) })")
            let limit = simulator.inverter(unitID: 1)?.applied["active_power_limit_w"] ?? 0
            #expect(limit > 3000 && limit < 4000, "limit \(limit) W: 0.5 kW house + ~2.9 kW export")

            // The house draws 3 kW: the limit rises, the export stays under 3 kW.
            houseW = 3000
            try await feed(seconds: 30)
            #expect(exports.suffix(10).allSatisfy { $0.watts <= 3000 && $0.watts > 2000 }, "\(exports.suffix(10).map { Int($0.watts) })")
            // Back to 0.5 kW: the limit drops at once; over 3 kW only while the inverter follows.
            houseW = 500
            let drop = exports.count
            try await feed(seconds: 15)
            let after = exports[drop...]
            #expect(after.dropFirst(6).allSatisfy { $0.watts <= 3000 }, "\(after.map { Int($0.watts) })")

            // Every answer is valid against its schema.
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            if let result = try await SchemaValidation.validate(messages.on(topics.inverterApplied("pv")).map(\.payload),
                                                                against: "inverter-applied.schema.json", repositoryRoot: root) {
                #expect(result.status == 0, "\(result.output)")
            }

            // Control stops: the gateway writes the safe limit.
            _ = await control.terminate()
            let fellBack = await eventually(timeout: .seconds(20)) {
                (applied().last?["result"] as? String == "fallback") && (applied().last?["active_power_limit_w"] as? Double == 3000)
            }
            #expect(fellBack, "logs: \(logs())")
            let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: modbusPort),
                                options: BusOptions(responseTimeout: ModbusTimeout(milliseconds: 500), retry: .none))
            #expect(try await bus.readRegisters(.holdingRegisters, address: 40233, count: 1, target: BusTarget(unitID: 1)) == [30])
            await bus.close()
        } catch {
            await run.stop()
            await pty.stop()
            throw error
        }
        await run.stop()
        await pty.stop()
    }
}
