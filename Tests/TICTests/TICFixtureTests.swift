import Foundation
import PhasorCore
import TIC
import Testing

@Suite("TIC frames from real meters")
struct TICFixtureTests {
    @Test func historiqueMonoBase() throws {
        let f = try parseFrame("tic-historique-mono-base-teleinfo2mqtt.txt")
        #expect(f.mode == .historique)
        #expect(f.mode.baudRate == 1200)
        #expect(f.isComplete)
        #expect(f.groups.count == 10)
        #expect(f.reading.number(.energyImport) == 2809.718)
        #expect(f.reading.number(.apparentPower) == 390)
        #expect(f.reading.number(Quantity.current.phase(1)) == 2)
        #expect(f.reading.text(.meterID) == "012345678901")
        #expect(f.tariff.tariffOption == "BASE")
        #expect(f.tariff.currentPeriod == "TH..")
        #expect(f.isThreePhase == false)
        #expect(f.reading.time == MeterTimestamp(date: receivedAt, utcOffsetSeconds: 0))
    }

    @Test func historiqueHeuresCreusesWithSpaceChecksums() throws {
        let f = try parseFrame("tic-historique-mono-hc-pyteleinfo.txt")
        // PTEC and IINST have SP as their checksum character.
        #expect(f.groups.count == 11)
        #expect(f.groups.first { $0.label == "PTEC" }?.data == "HP..")
        #expect(f.reading.number(Quantity.current.phase(1)) == 9)
        #expect(f.reading.number(Quantity.energyImport.tariff(1)) == 94939.439)
        #expect(f.reading.number(Quantity.energyImport.tariff(2)) == 127970.334)
        // No BASE index: the total is the sum of the two indexes.
        #expect(f.reading.number(.energyImport) == 222_909.773)
        #expect(f.reading.number("tic_isousc") == 45)
        #expect(f.genericUnits["tic_isousc"] == "A")
        #expect(f.reading.text("tic_motdetat") == "400000")
        #expect(f.reading.text(.tariffIndicator) == "HP..")
    }

    @Test func historiqueTempo() throws {
        let f = try parseFrame("tic-historique-mono-tempo-linky-pyteleinfo.txt")
        #expect(f.tariff.tariffOption == "BBR(")
        #expect(f.tariff.currentPeriod == "HCJB")
        #expect(f.tariff.tempoToday == .blue)
        #expect(f.tariff.tempoTomorrow == .red)
        #expect(f.reading.number(Quantity.energyImport.tariff(1)) == 18328.856)
        #expect(f.reading.number(Quantity.energyImport.tariff(6)) == 844.115)
        #expect(f.reading.number(.apparentPower) == 2840)
        #expect(f.reading.number(Quantity.current.phase(1)) == 12)
        #expect(f.reading.text("tic_demain") == "ROUG")
    }

    @Test func historiqueThreePhase() throws {
        let f = try parseFrame("tic-historique-tri-base-linky-ticdecodecpp.txt")
        #expect(f.isThreePhase)
        #expect(f.isShortFrame == false)
        // BASE's checksum is SP.
        #expect(f.reading.number(.energyImport) == 10151.175)
        #expect(f.reading.number(Quantity.current.phase(2)) == 2)
        #expect(f.reading.number("tic_imax3") == 60)
        #expect(f.reading.number("tic_pmax") == 2680)
        #expect(f.genericUnits["tic_pmax"] == "W")
        #expect(f.reading.text("tic_ppot") == "00")
    }

    @Test func standardMonoBase() throws {
        let f = try parseFrame("tic-standard-mono-base-linky-ticdecodecpp.txt")
        #expect(f.mode == .standard)
        #expect(f.mode.baudRate == 9600)
        #expect(f.groups.count == 38)
        #expect(f.isComplete)
        // DATE H230301091834 (winter): the reading carries the meter clock.
        #expect(f.reading.timeString(.meterTime) == "2023-03-01T09:18:34+01:00")
        #expect(f.reading.time.iso8601 == "2023-03-01T09:18:34+01:00")
        #expect(f.meterTime?.clockDegraded == false)
        #expect(f.reading.number(.energyImport) == 11887.649)
        #expect(f.reading.number(Quantity.energyImport.tariff(1)) == 11887.649)
        #expect(f.reading.number(.energyImportDistributor(1)) == 11887.649)
        #expect(f.reading.number(.apparentPower) == 240)
        #expect(f.reading.number(Quantity.voltage.phase(1)) == 230)
        #expect(f.reading.number(Quantity.current.phase(1)) == 1)
        #expect(f.reading.number("tic_smaxsn") == 1024)
        #expect(f.reading.timeString("tic_smaxsn_time") == "2023-03-01T06:52:53+01:00")
        #expect(f.reading.number("tic_smaxsn_m1") == 795)
        #expect(f.reading.number("tic_ccasn") == 170)
        #expect(f.genericUnits["tic_ccasn"] == "W")
        #expect(f.reading.number("tic_pref") == 4)
        #expect(f.genericUnits["tic_pref"] == "kVA")
        #expect(f.reading.text(.tariffIndicator) == "BASE")
        #expect(f.reading.text("tic_msg1") == "PAS DE          MESSAGE")
        #expect(f.groups.first { $0.label == "NGTF" }?.data == "      BASE      ")
        #expect(f.tariff.supplierCalendar == "BASE")
        #expect(f.tariff.currentTariffIndex == 1)
        #expect(f.tariff.tomorrowSchedule == ["00008001"])
        #expect(f.tariff.relays == Array(repeating: false, count: 8))
        let status = try #require(f.status)
        #expect(status.raw == 0x003A_0001)
        #expect(status.mode == .standard)
        #expect(status.dryContactOpen)
        #expect(status.supplierTariffIndex == 1)
        #expect(status.euridisOutput == .onWithSecurity)
        #expect(status.cplStatus == .newLocked)
        #expect(status.tempoColourToday == .none)
    }

    @Test func standardProducer() throws {
        let f = try parseFrame("tic-standard-mono-producer-linky-openhab.txt")
        #expect(f.reading.timeString(.meterTime) == "2018-07-16T10:34:23+02:00")
        #expect(f.reading.number(.energyExport) == 32.781)
        #expect(f.reading.number(.apparentPowerExport) == 1253)
        #expect(f.reading.number("tic_smaxin") == 1423)
        #expect(f.reading.timeString("tic_smaxin_m1_time") == "2018-07-15T14:42:29+02:00")
        #expect(f.reading.number(.reactiveEnergyQuadrant(3)) == 2.546)
        #expect(f.tariff.supplierCalendar == "PRODUCTEUR")
        #expect(f.tariff.currentTariffLabel == "INDEX NON CONSO")
        #expect(f.status?.isProducer == true)
        #expect(f.status?.raw == 0x002A_0301)
        #expect(f.status?.isInjecting == true)
    }

    @Test func standardThreePhaseTempoProducer() throws {
        let f = try parseFrame("tic-standard-tri-tempo-producer-linky-openhab.txt")
        #expect(f.groups.count == 63)
        #expect(f.isComplete)
        #expect(f.isThreePhase)
        #expect(f.reading.number(Quantity.apparentPower.phase(2)) == 568)
        #expect(f.reading.number(Quantity.voltage.phase(3)) == 242)
        #expect(f.reading.number(Quantity.current.phase(2)) == 2)
        #expect(f.reading.number("tic_smaxsn2_m1") == 3275)
        #expect(f.reading.timeString("tic_smaxsn3_m1_time") == "2021-04-13T19:58:14+02:00")
        #expect(f.reading.number("tic_umoy3") == 243)
        #expect(f.reading.number("tic_ccain_m1") == 0)
        #expect(f.reading.number(Quantity.energyImport.tariff(2)) == 5905.5)
        #expect(f.reading.number(.energyExport) == 671.631)
        #expect(f.tariff.currentTariffLabel == "HP  BLEU")
        #expect(f.tariff.currentTariffIndex == 2)
        #expect(f.tariff.tomorrowSchedule == ["00004001", "06004002", "22004001"])
        // STGE 013A0501, the reference's own example.
        let status = try #require(f.status)
        #expect(status.dryContactOpen)
        #expect(status.isProducer)
        #expect(status.supplierTariffIndex == 2)
        #expect(status.clockDegraded == false)
        #expect(status.mode == .standard)
        #expect(status.tempoColourToday == .blue)
        #expect(status.tempoColourTomorrow == .none)
        #expect(status.mobilePeakNotice == nil)
        #expect(f.tariff.tempoToday == .blue)
    }

    @Test(
        "Streams give their frame counts",
        arguments: [
            ("streams/tic-historique-mono-tempo-linky-10-frames-pyteleinfo.txt", 10, TICMode.historique),
            ("streams/tic-historique-tri-base-linky-ticdecodecpp.txt", 6, .historique),
            ("streams/tic-standard-mono-base-linky-ticdecodecpp.txt", 12, .standard),
            ("streams/tic-standard-mono-midnight-ticdecodecpp.txt", 12, .standard),
        ])
    func streams(path: String, count: Int, mode: TICMode) throws {
        let bytes = try FixtureFiles.bytes(path)
        for chunkSize in [1, 17, 4096] {
            var framer = TICFramer()
            var frames: [TICRawFrame] = []
            for start in stride(from: 0, to: bytes.count, by: chunkSize) {
                frames += framer.append(bytes[start..<min(start + chunkSize, bytes.count)])
            }
            #expect(frames.count == count)
            for frame in frames {
                let parsed = try TICParser.parse(frame, receivedAt: receivedAt)
                #expect(parsed.mode == mode)
                #expect(parsed.isComplete)
            }
        }
    }

    @Test func midnightRolloverKeepsTheSeasonLetter() throws {
        var framer = TICFramer()
        let frames = framer.append(try FixtureFiles.bytes("streams/tic-standard-mono-midnight-ticdecodecpp.txt"))
        let times = try frames.map { try TICParser.parse($0, receivedAt: receivedAt).reading.timeString(.meterTime) }
        // Upstream-edited dates keep H in May: published as +01:00, as the meter said.
        #expect(times.first == "2024-05-13T23:59:54+01:00")
        #expect(times.last == "2024-05-14T00:00:04+01:00")
        #expect(times.contains("2024-05-14T00:00:00+01:00"))
    }

    @Test func everyFixtureIsCovered() throws {
        let tested: Set<String> = [
            "tic-historique-mono-base-teleinfo2mqtt.txt", "tic-historique-mono-hc-pyteleinfo.txt",
            "tic-historique-mono-tempo-linky-pyteleinfo.txt", "tic-historique-tri-base-linky-ticdecodecpp.txt",
            "tic-standard-mono-base-linky-ticdecodecpp.txt", "tic-standard-mono-producer-linky-openhab.txt",
            "tic-standard-tri-tempo-producer-linky-openhab.txt",
            "streams/tic-historique-mono-tempo-linky-10-frames-pyteleinfo.txt",
            "streams/tic-historique-tri-base-linky-ticdecodecpp.txt",
            "streams/tic-standard-mono-base-linky-ticdecodecpp.txt",
            "streams/tic-standard-mono-midnight-ticdecodecpp.txt",
        ]
        let files = try FixtureFiles.all().filter { !$0.hasPrefix("bad/") }
        #expect(Set(files) == tested)
        let bad = try FixtureFiles.all().filter { $0.hasPrefix("bad/") }
        #expect(Set(bad) == Set(TICBadInputTests.coveredFiles))
    }
}
