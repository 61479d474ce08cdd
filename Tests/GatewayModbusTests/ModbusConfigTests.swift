import Foundation
import Gateway
import Modbus
import PhasorCore
import PhasorService
import Testing

/// The `modbus:` section of the site file and the quick-start flags.
@Suite struct ModbusConfigTests {
    func siteFile(_ yaml: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("site-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func modbusSectionLoadsWithDevicesRelaysAndSetpointTimeout() throws {
        let path = try siteFile("""
            site: home
            modbus:
              devices:
                - {id: grid, profile: eastron_sdm630, bus: /dev/ttyUSB0, unit_id: 1}
                - {id: garage, profile: alfen_eve, host: 192.0.2.40, setpoint_timeout_s: 45}
              relays:
                - {id: boiler, device: garage, coil: 3, default: on}
                - {id: demo}
            """)
        let site = try SiteConfiguration.load(from: path, checks: [GatewaySiteCheck()]).site
        let modbus = try #require(site.modbus)
        #expect(modbus.devices.map(\.id) == ["grid", "garage"])
        #expect(modbus.devices[1].setpointTimeoutS == 45)
        #expect(modbus.relays?[0].defaultState == .on)
        #expect(modbus.relays?[0].write(.on)?.function == 5)
        #expect(modbus.relays?[1].write(.on) == nil)  // simulated
    }

    @Test(arguments: [
        ("- {id: a, profile: eastron_sdm630, bus: /dev/ttyUSB0}\n    - {id: a, profile: eastron_sdm120, bus: /dev/ttyUSB0}",
         "modbus.devices: duplicate device id(s): a"),
        ("- {id: pv, profile: fronius_magic, host: 192.0.2.1}", "modbus.pv.profile: unknown profile 'fronius_magic'"),
        ("- {id: grid, profile: eastron_sdm630, bus: /dev/ttyUSB0, setpoint_timeout_s: 30}",
         "modbus.grid.setpoint_timeout_s: only charge points take setpoints"),
        ("- {id: grid, profile: eastron_sdm630, host: 192.0.2.1}", "modbus.grid.host: eastron_sdm630 has no Modbus TCP interface"),
        ("- {id: 'my meter', profile: eastron_sdm630, bus: /dev/ttyUSB0}", "device id 'my meter'"),
    ])
    func configErrorsNameTheDevice(devices: String, message: String) throws {
        let path = try siteFile("site: home\nmodbus:\n  devices:\n    \(devices)\n")
        #expect {
            try SiteConfiguration.load(from: path, checks: [GatewaySiteCheck()])
        } throws: { error in
            let text = "\(error)"
            return error is ConfigError && text.hasPrefix(path) && text.contains(message)
        }
    }

    @Test func theTwentyFirstTCPConnectionIsAConfigErrorNamingTheDevices() throws {
        let lines = (1...21).map { "    - {id: cp\($0), profile: peblar, host: 192.0.2.\($0)}" }.joined(separator: "\n")
        let path = try siteFile("site: home\nmodbus:\n  devices:\n\(lines)\n")
        #expect {
            try SiteConfiguration.load(from: path, checks: [GatewaySiteCheck()])
        } throws: { error in
            "\(error)".contains("21 Modbus TCP connections configured, at most 20 per site: cp1, cp2")
        }
    }

    @Test func eachDeviceBelongsToTheBusNamedBeforeIt() throws {
        let arguments = ["phasor-gateway", "--broker", "mqtt://127.0.0.1", "--modbus", "tcp://192.0.2.10:502",
                         "--device", "sdm630:1", "--device=alfen:1",
                         "--modbus=rtu:///dev/ttyUSB0?baud=9600&parity=E&stop=1", "--device", "pac2200:3"]
        let section = try #require(try ModbusQuickStartOptions().section(arguments: arguments, profiles: library))
        #expect(section.devices.map(\.id) == ["sdm630_1", "alfen_1", "pac2200_3"])
        #expect(section.devices.map(\.profile) == ["eastron_sdm630", "alfen_eve", "siemens_pac2200"])
        #expect(section.devices[0].host == "192.0.2.10" && section.devices[0].port == 502)
        #expect(section.devices[1].host == "192.0.2.10")
        #expect(section.devices[2].bus == "/dev/ttyUSB0" && section.devices[2].unitId == 3)
        #expect(section.devices[2].serial == SerialSettings(baud: 9600, parity: .even))
    }

    @Test(arguments: [
        (["--device", "sdm630:1"], "name its bus first"),
        (["--modbus", "tcp://h", "--device", "sdm:1"], "matches eastron_sdm120, eastron_sdm630, eastron_sdm72"),
        (["--modbus", "tcp://h", "--device", "nothing:1"], "no profile matches"),
        (["--modbus", "tcp://h", "--device", "alfen"], "PROFILE:UNIT"),
        (["--modbus", "udp://h", "--device", "alfen:1"], "scheme must be tcp or rtu"),
        (["--modbus", "rtu:///dev/ttyS0?baud=fast", "--device", "sdm630:1"], "baud 'fast'"),
    ])
    func quickStartMistakesAreExplained(arguments: [String], message: String) {
        #expect {
            _ = try ModbusQuickStartOptions().section(arguments: arguments, profiles: library)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func noQuickStartDevicesMeansNoSection() throws {
        #expect(try ModbusQuickStartOptions().section(arguments: ["phasor-gateway", "--site", "x"], profiles: library) == nil)
    }
}
