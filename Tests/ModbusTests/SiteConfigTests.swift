import DeviceSimulators
import Foundation
import PhasorCore
import Testing
@testable import Modbus

@Suite struct SiteConfigTests {
    static func tcp(_ id: String, _ profile: String, twin: Bool? = nil) -> ModbusDeviceConfig {
        ModbusDeviceConfig(id: id, profile: profile, host: "10.0.0.\(id.count)", twin: twin)
    }

    @Test func twentyTCPConnectionsAreAllowed() {
        let devices = (1...18).map { Self.tcp("cp\($0)", "enovates") } + [Self.tcp("twin", "alfen_eve", twin: true)]
            + [ModbusDeviceConfig(id: "rtu_meter", profile: "eastron_sdm630", bus: "/dev/ttyUSB0")]
        #expect(validateTCPConnectionLimit(devices, profiles: Fixtures.library) == nil)
    }

    @Test func theTwentyFirstConnectionIsRefusedNamingTheDevices() throws {
        let devices = [Self.tcp("inverter", "huawei_sun2000"), Self.tcp("alfen_double", "alfen_eve", twin: true)]
            + (1...18).map { Self.tcp("cp\($0)", "peblar") }
            + [ModbusDeviceConfig(id: "rtu_meter", profile: "eastron_sdm630", bus: "/dev/ttyUSB0")]
        let error = try #require(validateTCPConnectionLimit(devices, profiles: Fixtures.library))
        #expect(error.total == 21)
        #expect(error.devices.count == 20)  // the RTU meter does not count
        #expect(error.description.hasPrefix("21 Modbus TCP connections configured, at most 20 per site: inverter, alfen_double (×2), cp1"))
        #expect(!error.description.contains("rtu_meter"))
    }

    @Test func deviceConfigDecodesAndResolvesAgainstItsProfile() throws {
        let yaml = """
            - id: compact
              profile: mennekes_amtron_compact20s
              bus: /dev/ttyUSB0
            - id: grid
              profile: siemens_pac2200
              host: 192.168.1.20
              unit_id: 3
              timeout_ms: 250
              retries: 2
            """
        let configs = try ConfigLoader.decode([ModbusDeviceConfig].self, yaml: yaml)
        let compact = try Fixtures.profile("mennekes_amtron_compact20s")
        #expect(try configs[0].link(for: compact) == .rtu(device: "/dev/ttyUSB0", defaultSettings: SerialSettings(baud: 57600, stopBits: 2)))
        #expect(try configs[0].target(for: compact) == BusTarget(unitID: 50, serial: SerialSettings(baud: 57600, stopBits: 2)))
        let pac = try Fixtures.profile("siemens_pac2200")
        #expect(try configs[1].link(for: pac) == .tcp(host: "192.168.1.20", port: 502))
        #expect(try configs[1].target(for: pac).unitID == 3)
        let options = configs[1].busOptions(for: pac)
        #expect(options.responseTimeout == ModbusTimeout(milliseconds: 250))
        #expect(options.retry.attempts == 3)
        // A charger with only RTU cannot be reached over TCP.
        let wrong = ModbusDeviceConfig(id: "x", profile: "mennekes_amtron_compact20s", host: "10.0.0.1")
        #expect(throws: ConfigError.self) { try wrong.link(for: compact) }
        #expect(Fixtures.library["huawei_sun2000"].map { configs[1].busOptions(for: $0).connectDelay } == .milliseconds(1000))
    }

    @Test func genericMeterIsDefinedByConfigurationAlone() async throws {
        let yaml = """
            - {quantity: power, function: 4, register: "0x0034", words: 2, factor: 1, type: float32}
            - {quantity: energy_import, function: 4, register: "0x0048", words: 2, factor: 1, type: float32}
            - {quantity: voltage_l1, function: 4, register: 0, words: 2, factor: 1, type: float32}
            """
        let rows = try ConfigLoader.decode([GenericRegister].self, yaml: yaml)
        let generic = try GenericMeter.profile(id: "my_meter", registers: rows, base: try Fixtures.profile("generic"))
        // Serve an SDM630 and read it through the generic definition.
        let clock = ManualWallClock()
        let simulator = ModbusSimulator(clock: clock)
        try simulator.add(try Fixtures.profile("eastron_sdm630"))
        let port = try simulator.startTCP()
        defer { simulator.stop() }
        let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: Fixtures.fastOptions)
        let device = ModbusDevice(id: "my_meter", profile: generic, bus: bus, target: BusTarget(unitID: 1), clock: clock)
        let reading = try await device.poll()
        let model = simulator.values(unitID: 1)
        for quantity in [Quantity.power, .energyImport, .voltage.phase(1)] {
            let read = try #require(reading.number(quantity))
            #expect(abs(read - (model[quantity] ?? .nan)) <= abs(read) * 1e-6, "\(quantity)")
        }
        // Integer words with a factor: raw int16 × 0.1.
        let scaled = try GenericMeter.profile(id: "m", registers: [GenericRegister(quantity: "frequency", function: 3,
                                              register: 7, words: 1, factor: 0.1)], base: try Fixtures.profile("generic"))
        #expect(scaled.registers[0].value(from: [500]) == 50)
        #expect(throws: ConfigError.self) {
            try GenericMeter.profile(id: "m", registers: [GenericRegister(quantity: "power", function: 3, register: 1, words: 3, factor: 1)],
                                     base: try Fixtures.profile("generic"))
        }
    }

    @Test func deviceTestReadsEveryRegisterOnceWithValueUnitAndRaw() async throws {
        let profile = try Fixtures.profile("alfen_eve")
        let (simulator, device) = try Fixtures.tcpDevice(profile)
        defer { simulator.stop() }
        simulator.updateCharger(unitID: 1) { $0.vehicle = .init(phases: 3); $0.setpoint = 11 }
        let rows = await deviceTest(profile: profile, bus: device.bus, target: device.target)
        #expect(rows.count == profile.registers.count + 2)
        #expect(rows.allSatisfy { $0.error == nil })
        let power = try #require(rows.first { $0.name == "power" })
        #expect(power.address == 344 && power.unit == "W" && power.raw.count == 2)
        #expect(power.value.map { abs($0 - 230 * 11 * 3) } == 0, "\(String(describing: power.value))")
        #expect(rows.first { $0.name == "charger.state" }?.text == "C2 (charging)")
        #expect(rows.first { $0.name == "charger.current_limit" }?.value == 11)

        // A register the device does not have shows its error on its own row.
        let broken = try ProfileLibrary.parseProfile(yaml: """
            id: broken
            kind: meter
            manufacturer: X
            model: Y
            confidence: unverified
            connection: {transports: [tcp], unit_id: 1}
            registers:
              - {quantity: power, address: 344, type: float32, unit: W}
              - {quantity: frequency, address: 9000, type: float32, unit: Hz}
            """)
        let brokenRows = await deviceTest(profile: broken, bus: device.bus, target: device.target)
        #expect(brokenRows[0].error == nil)
        #expect(brokenRows[1].error == .exception(.illegalDataAddress))
    }
}

@Suite struct BusPoolTests {
    @Test func devicesOnOnePortShareOneBusAndGenericMetersGetTheirRegisters() throws {
        let pool = BusPool()
        let compact = ModbusDeviceConfig(id: "wallbox", profile: "mennekes_amtron_compact20s", bus: "/dev/ttyUSB0")
        let meter = ModbusDeviceConfig(id: "grid", profile: "eastron_sdm630", bus: "/dev/ttyUSB0", unitId: 2)
        let generic = ModbusDeviceConfig(id: "heat_pump", profile: "generic", host: "10.0.0.9",
                                         registers: [GenericRegister(quantity: "power", function: 4, register: 52, words: 2,
                                                                     factor: 1, type: .float32)])
        let a = try pool.makeDevice(compact, profiles: Fixtures.library)
        let b = try pool.makeDevice(meter, profiles: Fixtures.library)
        let c = try pool.makeDevice(generic, profiles: Fixtures.library)
        #expect(a.bus === b.bus)
        #expect(a.bus !== c.bus)
        #expect(a.target == BusTarget(unitID: 50, serial: SerialSettings(baud: 57600, stopBits: 2)))
        #expect(b.target == BusTarget(unitID: 2, serial: SerialSettings(baud: 9600)))
        #expect(c.profile.registers.map(\.quantity) == [.power])
        let unknown = ModbusDeviceConfig(id: "x", profile: "nope", host: "h")
        #expect(throws: ConfigError.self) { try pool.makeDevice(unknown, profiles: Fixtures.library) }
    }
}
