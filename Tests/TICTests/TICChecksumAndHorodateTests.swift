import Foundation
import PhasorCore
import TIC
import Testing

@Suite("Checksum modes, horodates, STGE")
struct TICChecksumAndHorodateTests {
    @Test func historiqueAcceptsEitherChecksumMode() throws {
        for mode2 in [false, true] {
            let f = try TICParser.parse(
                makeFrame(["ADCO 012345678901", "PAPP 01230"], separator: " ", checksumMode2: mode2), receivedAt: receivedAt)
            #expect(f.mode == .historique)
            #expect(f.checksumFailures == 0)
            #expect(f.reading.number(.apparentPower) == 1230)
        }
    }

    @Test func standardRequiresMode2() throws {
        let good = try TICParser.parse(makeFrame(["SINSTS\t00450"], separator: "\t", checksumMode2: true), receivedAt: receivedAt)
        #expect(good.mode == .standard)
        #expect(good.reading.number(.apparentPower) == 450)
        // "SINSTS\t00450": mode 1 and mode 2 checksums differ by the HT (0x09).
        #expect(throws: TICFrameError.noValidGroup(checksumFailures: 1, malformedGroups: 0)) {
            _ = try TICParser.parse(makeFrame(["SINSTS\t00450"], separator: "\t", checksumMode2: false), receivedAt: receivedAt)
        }
    }

    @Test func horodateSeasonsAndDegradedClock() throws {
        let frame = makeFrame(
            [
                "DATE\te230701120000\t", "SMAXSN\tE230701083000\t04500", "DPM1\t 230702060000\t00",
                "FPM1\t 230702080000\t00",
            ], separator: "\t", checksumMode2: true)
        let f = try TICParser.parse(frame, receivedAt: receivedAt)
        #expect(f.meterTime?.clockDegraded == true)
        #expect(f.reading.timeString(.meterTime) == "2023-07-01T12:00:00+02:00")
        #expect(f.reading.timeString("tic_smaxsn_time") == "2023-07-01T08:30:00+02:00")
        // Season SP (mobile peaks): the offset comes from the EU rule, July → +02:00.
        #expect(f.tariff.mobilePeaks.count == 1)
        #expect(f.tariff.mobilePeaks.first?.start?.timestamp.iso8601 == "2023-07-02T06:00:00+02:00")
        #expect(f.tariff.mobilePeaks.first?.end?.timestamp.iso8601 == "2023-07-02T08:00:00+02:00")
        #expect(f.invalidValues == 0)
    }

    @Test func winterHorodate() throws {
        let f = try TICParser.parse(makeFrame(["DATE\tH081225223518\t"], separator: "\t", checksumMode2: true), receivedAt: receivedAt)
        #expect(f.reading.time.iso8601 == "2008-12-25T22:35:18+01:00")
    }

    @Test func historiqueTariffSignals() throws {
        let frame = makeFrame(
            ["OPTARIF EJP.", "EJPHN 001000000", "EJPHPM 000200000", "PTEC PM..", "PEJP 30", "ADPS 045"],
            separator: " ", checksumMode2: false)
        let f = try TICParser.parse(frame, receivedAt: receivedAt)
        #expect(f.tariff.ejpPeakActive)
        #expect(f.tariff.ejpNoticeMinutes == 30)
        #expect(f.tariff.overCurrentPhases == [0])
        #expect(f.reading.number(Quantity.energyImport.tariff(2)) == 200)
        #expect(f.reading.number(.energyImport) == 1200)
        #expect(f.genericUnits["tic_pejp"] == "min")
    }

    @Test func threePhaseShortFrame() throws {
        let frame = makeFrame(
            ["ADIR1 035", "ADCO 012345678901", "IINST1 035", "IINST2 002", "IINST3 001"], separator: " ", checksumMode2: false)
        let f = try TICParser.parse(frame, receivedAt: receivedAt)
        #expect(f.isShortFrame)
        #expect(f.isThreePhase)
        #expect(f.tariff.overCurrentPhases == [1])
        #expect(f.reading.number(Quantity.current.phase(1)) == 35)
    }

    @Test func unknownLabelIsPublishedGenerically() throws {
        let f = try TICParser.parse(
            makeFrame(["NEWLBL\t00042", "OTHER\tABC "], separator: "\t", checksumMode2: true), receivedAt: receivedAt)
        #expect(f.reading.number("tic_newlbl") == 42)
        #expect(f.reading.text("tic_other") == "ABC")
    }

    @Test func relaysAndStatusRegister() throws {
        let f = try TICParser.parse(
            makeFrame(["RELAIS\t140", "STGE\tF5000000"], separator: "\t", checksumMode2: true), receivedAt: receivedAt)
        // 140 = relays 3, 4 and 8 closed.
        #expect(f.tariff.relays == [false, false, true, true, false, false, false, true])
        let s = try #require(f.status)
        #expect(s.tempoColourToday == .blue)
        #expect(s.tempoColourTomorrow == .blue)
        #expect(s.mobilePeakNotice == 3)
        #expect(s.mobilePeakActive == 3)
        #expect(TICStatusRegister(hex: "XYZ") == nil)
        #expect(TICStatusRegister(raw: 2 << 1).breaker == .openOverVoltage)
        #expect(TICStatusRegister(raw: 5 << 1).breaker == .openOverheatingAboveMaximumCurrent)
    }

    @Test func labelCatalogueCoversTheReference() {
        let labels = TICLabels.all
        #expect(labels["PAPP"]?.quantity == .apparentPower)
        #expect(labels["SINSTS"]?.quantity == .apparentPower)
        #expect(labels["SINSTI"]?.quantity == .apparentPowerExport)
        #expect(labels["EAIT"]?.quantity == .energyExport)
        #expect(labels["IRMS3"]?.quantity == Quantity.current.phase(3))
        #expect(labels["URMS2"]?.quantity == Quantity.voltage.phase(2))
        #expect(labels["EASF10"]?.quantity == Quantity.energyImport.tariff(10))
        #expect(labels["SMAXSN1-1"]?.quantity == "tic_smaxsn1_m1")
        #expect(labels["NJOURF+1"]?.quantity == "tic_njourf_p1")
        #expect(labels["CCAIN-1"]?.unit == "W")
        // Every catalogue quantity used has a unit in the PhasorCore catalogue.
        for definition in labels.values where !definition.quantity.rawValue.hasPrefix("tic_") {
            #expect(definition.quantity.unit != nil, "\(definition.label) → \(definition.quantity)")
        }
        // Every label of the reference's tables B5 and B6.
        let reference =
            "ADCO OPTARIF ISOUSC BASE HCHC HCHP EJPHN EJPHPM BBRHCJB BBRHPJB BBRHCJW BBRHPJW BBRHCJR BBRHPJR PEJP PTEC "
            + "DEMAIN IINST IINST1 IINST2 IINST3 ADPS ADIR1 ADIR2 ADIR3 IMAX IMAX1 IMAX2 IMAX3 PMAX PAPP HHPHC MOTDETAT "
            + "PPOT GAZ AUTRE ADSC VTIC DATE NGTF LTARF EAST EASF01 EASF02 EASF03 EASF04 EASF05 EASF06 EASF07 EASF08 "
            + "EASF09 EASF10 EASD01 EASD02 EASD03 EASD04 EAIT ERQ1 ERQ2 ERQ3 ERQ4 IRMS1 IRMS2 IRMS3 URMS1 URMS2 URMS3 "
            + "PREF PCOUP SINSTS SINSTS1 SINSTS2 SINSTS3 SMAXSN SMAXSN1 SMAXSN2 SMAXSN3 SMAXSN-1 SMAXSN1-1 SMAXSN2-1 "
            + "SMAXSN3-1 SINSTI SMAXIN SMAXIN-1 CCASN CCASN-1 CCAIN CCAIN-1 UMOY1 UMOY2 UMOY3 STGE DPM1 FPM1 DPM2 FPM2 "
            + "DPM3 FPM3 MSG1 MSG2 PRM RELAIS NTARF NJOURF NJOURF+1 PJOURF+1 PPOINTE"
        let referenceLabels = Set(reference.split(separator: " ").map(String.init))
        #expect(Set(labels.keys) == referenceLabels)
    }
}
