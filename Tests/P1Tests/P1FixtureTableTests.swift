import Foundation
import P1
import PhasorCore
import Testing

/// What one fixture must give: values read off the telegram text by hand and
/// converted to catalogue units (kW → W, Wh → kWh).
struct TelegramExpectation: CustomTestStringConvertible, Sendable {
    var path: String
    var variant: P1Variant
    /// Fixtures in crc-mismatch/ only parse with CRC checking off.
    var crcMismatch = false
    var powerImport: Double?
    /// (quantity, value) of one energy register, in kWh (GJ for heat).
    var energy: (Quantity, Double)
    /// ISO 8601 of 0-0:1.0.0; "nil" for a placeholder; nil when the telegram has none.
    var meterTime: String?
    var testDescription: String { path }
}

let telegramExpectations: [TelegramExpectation] = [
    .init(path: "dsmr22-iskra-mt382-dsmrparser.txt", variant: .dsmr2or3, powerImport: 1010, energy: ("energy_import_t1", 1.001)),
    .init(path: "dsmr22-iskra-mt382-real-basjes.txt", variant: .dsmr2or3, powerImport: 890, energy: ("energy_import_t1", 16719.94)),
    .init(path: "dsmr22-kamstrup-ka6u-real-basjes.txt", variant: .dsmr2or3, powerImport: 540, energy: ("energy_import_t1", 7041.882)),
    .init(path: "dsmr22-kamstrup-zabf-real-basjes.txt", variant: .dsmr2or3, powerImport: 680, energy: ("energy_import_t1", 5080.475)),
    .init(path: "dsmr22-landisgyr-xmx-real-basjes.txt", variant: .dsmr2or3, powerImport: 0, energy: ("energy_import_t1", 3687.771)),
    .init(path: "dsmr30-iskra-mt382-dsmrparser.txt", variant: .dsmr2or3, powerImport: 1190, energy: ("energy_import_t1", 12345.678)),
    .init(path: "dsmr40-landisgyr-homey.txt", variant: .dsmr4, powerImport: 0, energy: ("energy_import_t1", 1990.002), meterTime: "nil"),
    .init(path: "dsmr42-kaifa-dsmrparser.txt", variant: .dsmr4, powerImport: 2027, energy: ("energy_import_t1", 1581.123), meterTime: "2016-11-13T20:57:57+01:00"),
    .init(path: "dsmr42-kaifa-homey.txt", variant: .dsmr4, powerImport: 0, energy: ("energy_import_t1", 4726.494), meterTime: "2018-03-06T12:30:56+01:00"),
    .init(path: "dsmr42-kaifa-real-basjes.txt", variant: .dsmr4, powerImport: 105, energy: ("energy_import_t1", 3000.497), meterTime: "2020-04-10T10:24:33+02:00"),
    .init(path: "dsmr42-landisgyr-e350-3phase-real-basjes.txt", variant: .dsmr4, powerImport: 0, energy: ("energy_import_t1", 24.487), meterTime: "nil"),
    .init(path: "dsmr42-landisgyr-e350-real-basjes.txt", variant: .dsmr4, powerImport: 374, energy: ("energy_import_t1", 3235.689), meterTime: "2019-09-05T21:40:03+02:00"),
    .init(path: "dsmr5-belgium-fluvius-v171-alt-dsmrparser.txt", variant: .belgianEMUCS, powerImport: 338, energy: ("energy_import_t1", 301.548), meterTime: "2023-11-02T12:15:48+01:00"),
    .init(path: "dsmr5-belgium-fluvius-v171-dsmrparser.txt", variant: .belgianEMUCS, powerImport: 0, energy: ("energy_import_t1", 0.034), meterTime: "2020-05-12T13:54:09+02:00"),
    .init(path: "dsmr5-luxembourg-smarty-spec-example-homey.txt", variant: .luxembourgSmarty, powerImport: 5, energy: ("energy_import", 25.653), meterTime: "2020-07-06T10:41:57+02:00"),
    .init(path: "dsmr50-austria-sagemcom-t210dr-dsmrparser.txt", variant: .dsmr5, powerImport: 286, energy: ("energy_import", 6545.766), meterTime: "2022-10-06T15:50:14+02:00"),
    .init(path: "dsmr50-hungary-eon-sagemcom-dsmrparser.txt", variant: .hungarian, powerImport: 0, energy: ("energy_import", 173.64), meterTime: "2023-07-24T15:07:30+02:00"),
    .init(path: "dsmr50-iskra-am550-homey.txt", variant: .dsmr5, powerImport: 0, energy: ("energy_import_t1", 3808.351), meterTime: "2018-11-06T14:04:29+01:00"),
    .init(path: "dsmr50-iskra-am550-powerfailure-real-basjes.txt", variant: .dsmr5, powerImport: 0, energy: ("energy_import_t1", 16366.258), meterTime: "2022-05-28T15:17:29+02:00"),
    .init(path: "dsmr50-iskra-am550-raw-capture-basjes.txt", variant: .dsmr5, powerImport: 378, energy: ("energy_import_t1", 3432.827), meterTime: "2019-03-24T15:05:19+01:00"),
    .init(path: "dsmr50-iskra-am550-real-basjes.txt", variant: .dsmr5, powerImport: 433, energy: ("energy_import_t1", 3432.829), meterTime: "2019-03-24T15:05:41+01:00"),
    .init(path: "dsmr50-iskra-am550-two-mbus-dsmrparser.txt", variant: .dsmr5, powerImport: 111, energy: ("energy_import_t1", 2130.115), meterTime: "2020-04-26T22:33:25+02:00"),
    .init(path: "dsmr50-iskra-mt382-dsmrparser.txt", variant: .dsmr5, powerImport: 244, energy: ("energy_import_t1", 4.426), meterTime: "2017-01-02T19:20:02+01:00"),
    .init(path: "dsmr50-sagemcom-cx2000-real-basjes.txt", variant: .dsmr5, powerImport: 4, energy: ("energy_import_t1", 98.508), meterTime: "2018-12-02T06:09:10+01:00"),
    .init(path: "dsmr50-sagemcom-xs210-real-basjes.txt", variant: .dsmr5, powerImport: 335, energy: ("energy_import_t1", 51.775), meterTime: "2017-11-05T20:13:24+01:00"),
    .init(path: "quirks/dsmr22-kamstrup-no-blank-line-basjes.txt", variant: .dsmr2or3, powerImport: 980, energy: ("energy_import_t1", 185)),
    .init(path: "quirks/dsmr50-iskra-ie5t-dsmrparser.txt", variant: .unknownWithCRC, powerImport: 170, energy: ("energy_import_t1", 10.181), meterTime: "2023-02-02T13:27:47+02:00"),
    .init(path: "quirks/q3d-easymeter-esy5q3da1004-dsmrparser.txt", variant: .easyMeterQ3D, powerImport: 1688.21, energy: ("energy_import", 32549.5061662)),
    .init(path: "quirks/q3d-easymeter-esy5q3db1024-dsmrparser.txt", variant: .easyMeterQ3D, powerImport: 2124.86, energy: ("energy_import", 52185.7825309)),
    .init(path: "crc-mismatch/dsmr40-spec-example-homey.txt", variant: .dsmr4, crcMismatch: true, powerImport: 1193, energy: ("energy_import_t1", 123456.789), meterTime: "2010-12-09T11:30:20+01:00"),
    .init(path: "crc-mismatch/dsmr42-landisgyr-homey.txt", variant: .dsmr4, crcMismatch: true, powerImport: 494, energy: ("energy_import_t1", 2074.842), meterTime: "2017-01-08T16:11:07+01:00"),
    .init(path: "crc-mismatch/dsmr422-spec-example-homey.txt", variant: .dsmr4, crcMismatch: true, powerImport: 1193, energy: ("energy_import_t1", 123456.789), meterTime: "2010-12-09T11:30:20+01:00"),
    .init(path: "crc-mismatch/dsmr5-belgium-emucs211-spec-example-1-homey.txt", variant: .belgianEMUCS, crcMismatch: true, powerImport: 0, energy: ("energy_import_t2", 15.758), meterTime: "2020-05-12T13:54:09+02:00"),
    .init(path: "crc-mismatch/dsmr5-belgium-emucs211-spec-example-2-homey.txt", variant: .belgianEMUCS, crcMismatch: true, powerImport: 0, energy: ("energy_import_t1", 0.915), meterTime: "2020-05-12T14:55:52+02:00"),
    .init(path: "crc-mismatch/dsmr50-est-units-homey.txt", variant: .dsmr5, crcMismatch: true, powerImport: 0, energy: ("energy_import", 201.282), meterTime: "2025-03-19T10:28:12+01:00"),
    .init(path: "crc-mismatch/dsmr50-sagemcom-t210d-1-homey.txt", variant: .dsmr5, crcMismatch: true, powerImport: 0, energy: ("energy_import_t1", 9.533), meterTime: "2021-03-30T19:23:05+02:00"),
    .init(path: "crc-mismatch/dsmr50-sagemcom-t211-homey.txt", variant: .dsmr5, crcMismatch: true, powerImport: 723, energy: ("energy_import_t1", 565.971), meterTime: "2024-02-20T17:09:58+01:00"),
    .init(path: "crc-mismatch/dsmr50-spec-example-homey.txt", variant: .dsmr5, crcMismatch: true, powerImport: 1193, energy: ("energy_import_t1", 123456.789), meterTime: "2010-12-09T11:30:20+01:00"),
    .init(path: "quirks/dsmr50-warmtelink-heat-unpadded-crc-dsmrparser.txt", variant: .dsmr5, powerImport: nil, energy: ("heat_energy", 240.86), meterTime: "2026-02-15T20:05:23+01:00"),
    .init(path: "crc-mismatch/sagemcom-xt211-homey.txt", variant: .belgianEMUCS, crcMismatch: true, powerImport: 1622, energy: ("energy_import_t2", 5216.778), meterTime: "nil"),
    .init(path: "crc-mismatch/kamstrup-omnia-3phase-homey.txt", variant: .unknownWithCRC, crcMismatch: true, powerImport: 2424, energy: ("energy_import", 123.321), meterTime: "nil"),
]

@Test("Every telegram fixture parses with its values", arguments: telegramExpectations)
func fixtureParses(_ e: TelegramExpectation) throws {
    if e.crcMismatch {
        #expect {
            _ = try parseFixture(e.path)
        } throws: { error in
            if case P1TelegramError.crcMismatch = error { return true } else { return false }
        }
    }
    let telegram = try parseFixture(e.path, verifyCRC: !e.crcMismatch)
    #expect(telegram.variant == e.variant)
    #expect(telegram.reading.number(.powerImport) == e.powerImport)
    #expect(telegram.reading.number(e.energy.0) == e.energy.1)
    #expect(telegram.reading.timeString(.meterTime) == e.meterTime)
    if e.crcMismatch {
        #expect(telegram.crc == .notChecked(printed: telegram.crc.printed))
    } else {
        #expect(telegram.crc == (e.variant.requiresCRC ? .verified : .absent))
    }
    // Only the spec examples carry known typos (e.g. `1-0:99:97.0`), real telegrams are clean.
    if !e.path.contains("spec-example") { #expect(telegram.issues.isEmpty, "\(telegram.issues)") }
}

@Test func everyTelegramFixtureHasAnExpectation() throws {
    let covered = Set(telegramExpectations.map(\.path))
    let telegramFiles = try FixtureFiles.all().filter {
        $0.hasSuffix(".txt") && !$0.hasPrefix("bad/") && !$0.hasPrefix("streams/")
    }
    #expect(telegramFiles.count == covered.count)
    for path in telegramFiles { #expect(covered.contains(path), "no expectation for \(path)") }
}

extension P1CRCStatus {
    var printed: UInt16? { if case .notChecked(let p) = self { p } else { nil } }
}
