import Foundation
import PhasorCore
import Testing
@testable import Modbus

@Suite struct ProfileLoadingTests {
    static let expectedIDs: Set<String> = [
        "two_channel_meter", "generic", "eastron_sdm630", "eastron_sdm120", "eastron_sdm72", "siemens_pac2200",
        "socomec_countis", "huawei_sun2000", "sma_stp_se", "sungrow_shx", "solax_g4", "alfen_eve", "abb_terra_ac",
        "mennekes_amtron_professional", "mennekes_amtron_compact20s", "phoenix_ev_eth", "enovates", "peblar",
        "hager_witty", "sunspec_meter_203", "sunspec_inverter",
    ]

    @Test func everyShippedProfileLoadsWithoutProblems() throws {
        let library = ProfileLibrary.load()
        #expect(library.problems.map(\.description) == [])
        #expect(Set(library.profiles.keys) == Self.expectedIDs)
        for profile in library.profiles.values where profile.kind == .charger {
            #expect(profile.charger != nil, "\(profile.id)")
        }
    }

    @Test func everyShippedFileIsInTheFolderOfItsKind() throws {
        let folder = try #require(ProfileLibrary.shippedProfilesFolder)
        for file in ProfileLibrary.profileFiles(in: folder) {
            let profile = try ProfileLibrary.loadProfile(at: file)
            #expect(file.deletingLastPathComponent().lastPathComponent == profile.kind.rawValue + "s", "\(file.path)")
        }
    }

    @Test func unitsAreConvertedToTheCatalogue() throws {
        let library = ProfileLibrary.load()
        let twoChannel = try #require(library["two_channel_meter"])
        let power = try #require(twoChannel.registers.first { $0.quantity == .power })
        #expect(power.unit == .watt)
        #expect(power.factor == 1000)  // kW → W
        let pac = try #require(library["siemens_pac2200"])
        let energy = try #require(pac.registers.first { $0.quantity == .energyImport })
        #expect(energy.factor == 0.001)  // Wh → kWh
        let huawei = try #require(library["huawei_sun2000"])
        #expect(huawei.registers.first { $0.quantity == .power }?.factor == -1)  // export-positive → import-positive
        #expect(huawei.registers.first { $0.quantity == .batteryPower }?.factor == -1)  // charge-positive → discharge-positive
    }

    @Test func userFolderOverridesByID() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-profiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let yaml = """
            id: eastron_sdm630
            kind: meter
            manufacturer: Eastron
            model: SDM630 patched
            confidence: unverified
            connection: {transports: [rtu], unit_id: 7}
            registers:
              - {quantity: power, address: 52, function: 4, type: float32, unit: W}
            """
        try yaml.write(to: folder.appendingPathComponent("sdm630.yaml"), atomically: true, encoding: .utf8)
        let library = ProfileLibrary.load(userFolder: folder)
        let profile = try #require(library["eastron_sdm630"])
        #expect(profile.profile.model == "SDM630 patched")
        #expect(profile.profile.connection.unitId == 7)
        #expect(library["eastron_sdm120"] != nil)
    }

    @Test(arguments: [
        ("registers:\n  - {quantity: power, address: 52, type: float32, unit: V}", "registers[0].unit"),
        ("registers:\n  - {quantity: power, address: 0x1FFFF, type: float32, unit: W}", "registers[0].address"),
        ("registers:\n  - {quantity: power, address: 1, type: float32, unit: W, sign: charge_positive}", "registers[0].sign"),
        ("registers:\n  - {quantity: power, address: 1, type: float32, unit: W}\n  - {quantity: power, address: 3, type: float32, unit: W}",
         "registers[1].quantity"),
        ("registers:\n  - {quantity: power, address: 1, type: float32, unit: W, poll: often}", "registers[0].poll"),
        ("registers:\n  - {quantity: power, address: 1, function: 1, type: float32, unit: W}", "registers[0].type"),
        ("registers:\n  - {quantity: power, address: 1, type: float32, unit: W, colour: red}", "registers[0].colour"),
        ("registers:\n  - {quantity: serial, address: 1, type: ascii}", "registers[0].words"),
    ])
    func badProfilesNameTheField(registers: String, field: String) throws {
        let yaml = """
            id: bad
            kind: meter
            manufacturer: X
            model: Y
            confidence: unverified
            connection: {transports: [tcp], unit_id: 1}
            \(registers)
            """
        let error = try #require(throws: ConfigError.self) { try ProfileLibrary.parseProfile(yaml: yaml, file: "bad.yaml") }
        #expect(error.field == field, "\(error)")
        #expect(error.file == "bad.yaml")
    }

    @Test func addressesAcceptDecimalHexAndVendorHex() throws {
        #expect(RegisterAddress(parsing: "30775")?.value == 30775)
        #expect(RegisterAddress(parsing: "0x2100")?.value == 0x2100)
        #expect(RegisterAddress(parsing: "2100h")?.value == 0x2100)
        #expect(RegisterAddress(parsing: "65536") == nil)
        #expect(RegisterAddress(parsing: "-1") == nil)
        #expect(RegisterAddress(parsing: "zz") == nil)
    }
}
