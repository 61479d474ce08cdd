@testable import DeviceSimulators
import Foundation
import PhasorCore
import Testing
@testable import Modbus

/// Real libmodbus RTU over a socat pseudo-terminal pair: the simulator serves one
/// end, the gateway's bus the other, as on an RS-485 pair.
@Suite struct RTUBusTests {
    @Test func oneBusServesDevicesWithDifferentLineSettings() async throws {
        let pair = try await SocatPTYPair.start()
        let clock = ManualWallClock()
        let simulator = ModbusSimulator(clock: clock)
        let meter = try Fixtures.profile("two_channel_meter")  // unit 1, 9600 8N1
        let sdm120 = try Fixtures.profile("eastron_sdm120")  // 2400 8N1, placed at unit 2
        let compact = try Fixtures.profile("mennekes_amtron_compact20s")  // unit 50, 57600 8N2
        try simulator.add(meter)
        try simulator.add(sdm120, unitID: 2)
        try simulator.add(compact)
        try simulator.startRTU(device: pair.second)
        // What is tested is the line settings, not the timing: an answer is waited for as long as
        // a loaded test machine may need to schedule socat and the simulator (300 ms was not, once).
        let bus = ModbusBus(link: .rtu(device: pair.first, defaultSettings: SerialSettings(baud: 9600)),
                            options: BusOptions(responseTimeout: ModbusTimeout(milliseconds: 3000), retry: .none))
        func device(_ profile: ResolvedProfile, unit: UInt8) -> ModbusDevice {
            ModbusDevice(id: profile.id, profile: profile, bus: bus,
                         target: BusTarget(unitID: unit, serial: profile.profile.connection.serial), clock: clock)
        }
        let devices = [device(meter, unit: 1), device(sdm120, unit: 2), device(compact, unit: 50)]

        // All three poll at once: the bus serialises them and switches line settings between them.
        let readings = try await withThrowingTaskGroup(of: (Int, Reading).self) { group in
            for (index, d) in devices.enumerated() {
                group.addTask { (index, try await d.poll(groups: d.allGroups)) }
            }
            var all: [Int: Reading] = [:]
            for try await (index, reading) in group { all[index] = reading }
            return all
        }
        for (index, unit) in [(0, UInt8(1)), (1, 2), (2, 50)] {
            let profile = devices[index].profile
            let model = simulator.values(unitID: unit)
            let reading = try #require(readings[index])
            for (quantity, registers) in Dictionary(grouping: profile.registers, by: \.quantity) {
                let expected = try #require(model[quantity])
                let read = try #require(reading.number(quantity), "\(profile.id) \(quantity)")
                #expect(abs(read - expected) <= Fixtures.tolerance(registers, value: expected), "\(profile.id) \(quantity)")
            }
        }
        let line = await bus.lineState()
        #expect(line.switches >= 2)

        // The charger on the same bus takes its setpoint and heartbeat over RTU.
        let driver = try ModbusChargerDriver(device: devices[2], clock: clock)
        simulator.updateCharger(unitID: 50) { $0.vehicle = .init(phases: 3) }
        try await driver.setCurrentLimit(14.5)
        let status = try await driver.readStatus()
        #expect(status.state == .charging)
        #expect(status.currentLimit == 14.5)
        #expect(await bus.lineState().settings == SerialSettings(baud: 57600, stopBits: 2))

        // A unit id nobody answers to times out; the others keep working.
        let ghost = ModbusDevice(id: "ghost", profile: meter, bus: bus, target: BusTarget(unitID: 9), offlineAfter: 1, clock: clock)
        await #expect(throws: ModbusError.timeout) { try await ghost.poll(groups: ghost.allGroups) }
        #expect(await ghost.health.availability == .offline)
        _ = try await devices[0].poll(groups: devices[0].allGroups)
        #expect(await devices[0].health.availability == .online)

        await bus.close()
        simulator.stop()
        await pair.stop()
        #expect(!FileManager.default.fileExists(atPath: pair.first))  // socat removed its links on SIGTERM
    }

    @Test func framingFindsRequestsInANoisyStream() {
        // Read holding 0x2100 × 2 from unit 1, then FC16 to unit 50, with noise before.
        var read: [UInt8] = [0x01, 0x03, 0x21, 0x00, 0x00, 0x02]
        let crc = RTUFraming.crc16(read)
        read += [UInt8(crc & 0xFF), UInt8(crc >> 8)]
        var write: [UInt8] = [0x32, 0x10, 0x03, 0x02, 0x00, 0x02, 0x04, 0x41, 0x80, 0x00, 0x00]
        let crc2 = RTUFraming.crc16(write)
        write += [UInt8(crc2 & 0xFF), UInt8(crc2 >> 8)]
        var buffer: [UInt8] = [0x00, 0x99] + read + write.prefix(5)
        #expect(RTUFraming.nextRequest(&buffer) == read)
        #expect(RTUFraming.nextRequest(&buffer) == nil)  // the write is not complete yet
        buffer += write.dropFirst(5)
        #expect(RTUFraming.nextRequest(&buffer) == write)
        #expect(buffer.isEmpty)
        #expect(RTUFraming.crc16([0x01, 0x03, 0x00, 0x00, 0x00, 0x01]) == 0x0A84)  // known frame 01 03 00 00 00 01 84 0A
    }
}
