import ArgumentParser
import Foundation
import Gateway
import MeterIO
import PhasorCore
import PhasorService
import Testing

/// `meters:` in the site file and the quick-start flags.
@Suite struct ConfigurationTests {
    @Test func siteFileMetersResolveWithDefaultsAndOverrides() throws {
        let yaml = """
            site: home
            meters:
              - id: p1
                type: p1
                source: tcp://dongle.local:8088
                split_port: 2000
                meter_lost_periods: 5
                publish: {min_interval: 5, max_interval: 600, deadband: {power: 10, voltage_l1: 1}}
              - id: old_p1
                type: p1
                source: /dev/ttyUSB1
                serial: {baud: 9600, data_bits: 7, parity: even}
              - id: tic1
                type: tic
                source: /dev/ttyAMA0
                tic_mode: standard
              - id: lux
                type: p1
                source: file:///var/lib/phasor/capture.bin
                smarty_key: 000102030405060708090A0B0C0D0E0F
            """
        let site = try ConfigLoader.decode(SiteConfiguration.self, yaml: yaml, file: "site.yaml")
        let meters = try #require(site.meters).map { try MeterSettings($0) }
        #expect(meters[0].source == .tcp(host: "dongle.local", port: 8088))
        #expect(meters[0].splitPort == 2000)
        #expect(meters[0].meterLostPeriods == 5)
        #expect(meters[0].policy == PublishPolicy(minInterval: 5, maxInterval: 600, deadbands: [.power: 10, Quantity("voltage_l1"): 1]))
        #expect(meters[0].serial == .p1DSMR4and5)
        #expect(meters[1].serial == .p1DSMR2and3)
        #expect(meters[1].source == .serial(path: "/dev/ttyUSB1"))
        #expect(meters[2].serial == .ticStandard)
        #expect(meters[2].policy == PublishPolicy())
        #expect(meters[3].smartyKey == Array(0..<16))
        #expect(meters[3].source == .file(path: "/var/lib/phasor/capture.bin"))
    }

    @Test(arguments: [
        ("meters:\n  - id: p1\n    type: p1\n    source: /dev/ttyUSB0\n    baud: 9600\n", "site.yaml:6: meters[0].baud: unknown field"),
        ("meters:\n  - id: p1\n    type: modbus\n    source: /dev/ttyUSB0\n", "site.yaml:4: meters[0].type"),
        ("meters:\n  - id: p1\n    type: p1\n    source: /dev/ttyUSB0\n    serial: {parity: mark}\n", "site.yaml:6: meters[0].serial.parity"),
        ("meters:\n  - id: p1\n    type: p1\n", "meters[0].source: required field is missing"),
    ])
    func unknownOrWrongKeysNameFileLineAndField(meters: String, expected: String) {
        let yaml = "site: home\n" + meters
        #expect {
            _ = try ConfigLoader.decode(SiteConfiguration.self, yaml: yaml, file: "site.yaml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test(arguments: [
        (MeterConfiguration(id: "p1", type: .p1, source: "tcp://host"), "the port is missing"),
        (MeterConfiguration(id: "p1", type: .p1, source: "ttyUSB0"), "use /dev/…, tcp://host:port or file:///path"),
        (MeterConfiguration(id: "p 1", type: .p1, source: "/dev/ttyUSB0"), "id: use letters"),
        (MeterConfiguration(id: "t", type: .tic, source: "/dev/ttyAMA0", splitPort: 2000), "split_port: only for type p1"),
        (MeterConfiguration(id: "p1", type: .p1, source: "/dev/ttyUSB0", splitPort: 2000, splitBind: "my-laptop"), "split_bind 'my-laptop': use an IPv4 address"),
        (MeterConfiguration(id: "p1", type: .p1, source: "/dev/ttyUSB0", splitBind: "0.0.0.0"), "split_bind: only with split_port"),
        (MeterConfiguration(id: "p1", type: .p1, source: "/dev/ttyUSB0", serial: SerialOverrides(baud: 1234)), "baud 1234"),
        (MeterConfiguration(id: "p1", type: .p1, source: "/dev/ttyUSB0", smartyKey: "00ff"), "32 hex digits"),
        (MeterConfiguration(id: "p1", type: .p1, source: "/dev/ttyUSB0", meterLostPeriods: 1), "use 2 or more"),
        (MeterConfiguration(id: "p1", type: .p1, source: "/dev/ttyUSB0",
                            publish: PublishPolicyConfiguration(minInterval: 10, maxInterval: 5)), "max_interval"),
    ])
    func badValuesAreRefusedNamingTheMeter(config: MeterConfiguration, expected: String) {
        #expect {
            _ = try MeterSettings(config)
        } throws: { error in
            "\(error)".contains("meter '\(config.id)'") && "\(error)".contains(expected)
        }
    }

    @Test func meterIdsAreUniqueAcrossTheSite() {
        let twice = [MeterConfiguration(id: "p1", type: .p1, source: "/dev/ttyUSB0"),
                     MeterConfiguration(id: "p1", type: .p1, source: "tcp://h:8088")]
        #expect(throws: MeterSettingsError.self) { try MeterSettings.resolve(twice) }
    }

    @Test func quickStartFlagsAddMetersOrReplaceTheSourceOfTheSameId() throws {
        let options = try MeterOptions.parse(["--p1", "tcp://192.168.1.20:8088", "--p1-split-port", "2000", "--tic", "/dev/ttyAMA0",
                                              "--tic2", "/dev/ttyUSB1", "--tic-mode", "standard"])
        let file = [MeterConfiguration(id: "p1", type: .p1, source: "/dev/ttyUSB0", meterLostPeriods: 4)]
        let merged = try options.merged(into: file)
        #expect(merged.map(\.id) == ["p1", "tic1", "tic2"])
        #expect(merged[0].source == "tcp://192.168.1.20:8088")
        #expect(merged[0].meterLostPeriods == 4, "the file's other settings stay")
        #expect(merged[0].splitPort == 2000)
        #expect(merged[1].type == .tic && merged[1].ticMode == .standard)
        #expect(try MeterOptions.parse([]).merged(into: []).isEmpty, "no flags, no file: the demo meter runs")
        #expect(throws: (any Error).self) { try MeterOptions.parse(["--p1-split-port", "2000"]).merged(into: []) }
    }
}
