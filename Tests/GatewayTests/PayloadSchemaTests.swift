import Foundation
import Gateway
import MeterIO
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// Published meter payloads and the `meters:` site file section, checked against
/// schemas/ by Python's jsonschema.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["PHASOR_PYTHON"] != nil, "needs PHASOR_PYTHON"), .endToEnd)
struct PayloadSchemaTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func statsAndStateOfP1AndSplitMatchTheirSchemas() async throws {
        let dongle = try makeDongle()
        let h = try await MeterHarness(MeterConfiguration(
            id: "p1", type: .p1, source: "tcp://127.0.0.1:\(dongle.port)", splitPort: Loopback.freePort()))
        let before = try #require(await h.statistics { $0["last_telegram_age_s"] is NSNull })
        #expect(await waitForClients(dongle))
        dongle.broadcast(try Fixtures.bytes("dsmr5-belgium-fluvius-v171-dsmrparser.txt"))
        _ = try #require(await h.state())
        let after = try #require(await h.statistics { ($0["telegrams_ok"] as? Int) == 1 })
        #expect(after["split_clients"] as? Int == 0)
        let stats = [before, after].map { [UInt8](try! JSONSerialization.data(withJSONObject: $0)) }
        let result = try #require(try await SchemaValidation.validate(stats, against: "meter-stats.schema.json", repositoryRoot: Self.repositoryRoot))
        #expect(result.status == 0, "\(result.output)")
        let state = try #require(h.inbox.on(h.topics.meterState("p1")).last)
        let stateResult = try #require(try await SchemaValidation.validate([state.payload], against: "meter-state.schema.json", repositoryRoot: Self.repositoryRoot))
        #expect(stateResult.status == 0, "\(stateResult.output)")
        dongle.stop()
        await h.stop()
    }

    @Test func metersSectionOfTheSiteFileMatchesTheConfigSchema() async throws {
        let yaml = """
            site: home
            meters:
              - {id: p1, type: p1, source: "tcp://dongle:8088", split_port: 2000, meter_lost_periods: 4,
                 publish: {min_interval: 5, max_interval: 600, deadband: {power: 10}}}
              - {id: old, type: p1, source: /dev/ttyUSB1, serial: {baud: 9600, data_bits: 7, parity: even, stop_bits: 1}}
              - {id: tic1, type: tic, source: /dev/ttyAMA0, tic_mode: standard}
              - {id: lux, type: p1, source: "file:///tmp/c.bin", smarty_key: 000102030405060708090A0B0C0D0E0F, replay_bytes_per_second: 11520}
            """
        _ = try ConfigLoader.decode(SiteConfigurationProbe.self, yaml: yaml)
        let result = try #require(try await SchemaValidation.validate(
            [Array(yaml.utf8)], against: "config.schema.json", repositoryRoot: Self.repositoryRoot, fileExtension: "yaml"))
        #expect(result.status == 0, "\(result.output)")
        let wrong = yaml.replacingOccurrences(of: "tic_mode: standard", with: "tic_mode: standard, baud: 9600")
        let refused = try #require(try await SchemaValidation.validate(
            [Array(wrong.utf8)], against: "config.schema.json", repositoryRoot: Self.repositoryRoot, fileExtension: "yaml"))
        #expect(refused.status != 0, "the schema refuses what the loader refuses")
    }
}

/// The part of the site file the gateway's meters live in (the full
/// `SiteConfiguration` is PhasorService's; decoding just `meters` keeps this test
/// about the meters section).
private struct SiteConfigurationProbe: Decodable {
    var site: String
    var meters: [MeterConfiguration]
}
