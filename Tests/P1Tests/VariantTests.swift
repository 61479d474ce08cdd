import Foundation
import P1
import PhasorCore
import Testing

@Suite("Country variants, DSMR 2.2/3 and Q3D")
struct VariantTests {
    @Test func dsmr22GasProfileValueOnNextLine() throws {
        let t = try parseFixture("dsmr22-iskra-mt382-real-basjes.txt")
        #expect(t.variant == .dsmr2or3)
        #expect(t.nominalPeriod == .seconds(10))
        #expect(t.crc == .absent)
        #expect(t.meterTime == nil)
        #expect(t.reading.time == MeterTimestamp(date: receivedAt, utcOffsetSeconds: 0))
        // 0-2:24.3.0(211122210000)(00)(60)(1)(0-2:24.2.1)(m3) CRLF (13368.864): no season letter, November → +01:00.
        #expect(t.reading.number(.gasVolume) == 13368.864)
        #expect(t.reading.timeString(.gasVolumeTime) == "2021-11-22T21:00:00+01:00")
        #expect(t.mbusDevices.first?.channel == 2)
        #expect(t.reading.number(.powerLimit) == 999_000)
    }

    @Test func dsmr3LimiterInAmperesAndHexMessages() throws {
        let t = try parseFixture("dsmr30-iskra-mt382-dsmrparser.txt")
        #expect(t.reading.number(.currentLimit) == 16)
        #expect(t.reading.text(.textMessageCode) == "012345678")
        #expect(t.reading.text(.textMessage)?.hasPrefix("0123456789:;<=>?") == true)
        #expect(t.reading.number(.gasVolume) == 1.001)
        #expect(t.reading.timeString(.gasVolumeTime) == "2009-02-12T16:00:00+01:00")
    }

    @Test func austrianWattHourMeterIsConvertedToKilowattHours() throws {
        let t = try parseFixture("dsmr50-austria-sagemcom-t210dr-dsmrparser.txt")
        #expect(t.reading.number(.energyImport) == 6545.766)
        #expect(t.reading.number(Quantity.energyImport.tariff(2)) == 1528.646)
        #expect(t.reading.number(.energyExport) == 0.058)
        #expect(t.reading.number(.powerImport) == 286)
        #expect(t.reading.number(.reactiveEnergyExport) == 3897.726)
        #expect(t.reading.number(.reactivePowerExport) == 166)
    }

    @Test func hungarianRegistersAndBillingSnapshot() throws {
        let t = try parseFixture("dsmr50-hungary-eon-sagemcom-dsmrparser.txt")
        #expect(t.variant == .hungarian)
        #expect(t.reading.number(Quantity.energyExport.tariff(1)) == 401.829)
        #expect(t.reading.number(.reactiveEnergyQuadrant(3)) == 160.487)
        #expect(t.reading.number(.energyAbsolute) == 800.817)
        #expect(t.reading.number(.powerFactor) == 4.556)
        #expect(t.reading.number(Quantity.powerFactor.phase(3)) == 4.552)
        #expect(t.reading.number(.frequency) == 50)
        #expect(t.reading.number(.powerExport) == 2601)
        #expect(t.reading.number(.reactivePowerQuadrant(3)) == 504)
        #expect(t.reading.number(Quantity.currentLimit.phase(3)) == 200)
        #expect(t.reading.text(.logicalDeviceName) == "SAG3082200002160")
        // Same OBIS as the Belgian history, another shape: kept raw, not a peak history.
        #expect(t.monthPeakHistory.isEmpty)
        #expect(t.reading.text("obis_0_0_98_1_0")?.hasPrefix("(230701000000S)(000040.777*kWh)") == true)
    }

    @Test func luxembourgSmartyPlaintext() throws {
        let t = try parseFixture("dsmr5-luxembourg-smarty-spec-example-homey.txt")
        #expect(t.variant == .luxembourgSmarty)
        #expect(t.reading.number(.apparentPowerLimit) == 69_000)
        #expect(t.reading.number(.apparentPowerImport) == 21)
        #expect(t.reading.number(.currentLimit) == 100)
        #expect(t.reading.number(.currentLimitExport) == -63)
        #expect(t.reading.number(.relayState(1)) == 0)
        #expect(t.reading.number(Quantity.voltageSags.phase(1)) == 40)
        // Gas on channels 1 and 4; water channels 2 and 3 are empty placeholders.
        #expect(t.reading.number(.gasVolume) == 0.006)
        #expect(t.reading.number("gas2_volume") == 28.103)
        #expect(t.reading.text("gas2_meter_id") == "ELS353589980300")
        #expect(t.reading[.waterVolume] == nil)
        #expect(t.mbusDevices.filter(\.isEmptyChannel).map(\.channel) == [2, 3])
        #expect(t.mbusDevices[1].captureTime == nil)
    }

    @Test func emptyMBusChannelDoesNotShadowTheRealGasMeter() throws {
        let t = try parseFixture("dsmr50-iskra-am550-two-mbus-dsmrparser.txt")
        // Channel 1: (700101010000W)(00000000); channel 2: the real meter.
        #expect(t.reading.number(.gasVolume) == 246.138)
        #expect(t.reading.timeString(.gasVolumeTime) == "2020-04-26T22:30:01+02:00")
        #expect(t.reading["gas2_volume"] == nil)
        #expect(t.mbusDevices.map(\.isEmptyChannel) == [true, false])
    }

    @Test func heatMeterInGigajoules() throws {
        let t = try parseFixture("quirks/dsmr50-warmtelink-heat-unpadded-crc-dsmrparser.txt")
        #expect(t.crc == .verified)
        #expect(t.reading.number(.heatEnergy) == 240.86)
        #expect(t.reading.timeString("heat_energy_time") == "2026-02-15T20:05:23+01:00")
        // Not hex-encoded text: kept as printed.
        #expect(t.reading.text(.meterID) == "ADC3100000158491")
    }

    @Test func easyMeterQ3DWithGroupF() throws {
        let t = try parseFixture("quirks/q3d-easymeter-esy5q3db1024-dsmrparser.txt")
        #expect(t.variant == .easyMeterQ3D)
        #expect(t.reading.number(Quantity.powerImport.phase(1)) == 747.85)
        #expect(t.reading.number(.energyExport) == 19949.3221493)
        #expect(t.reading.text(.meterID) == "0272031312565")
        #expect(t.reading.text("obis_0_0_96_1_255") == "1ESY1313002565")
    }

    @Test func powerFailureLog() throws {
        let t = try parseFixture("dsmr42-kaifa-dsmrparser.txt")
        try #require(t.powerFailureLog.count == 3)
        #expect(t.powerFailureLog[0].end?.iso8601 == "2000-01-04T18:03:20+01:00")
        #expect(t.powerFailureLog[0].durationSeconds == 237_126)
        #expect(t.powerFailureLog[2].durationSeconds == 2_317_482_647)
        #expect(t.reading.number(.powerFailures) == 15)
        #expect(t.reading.number(.longPowerFailures) == 7)
    }

    @Test func rawObjectsKeepThePrintedForm() throws {
        let t = try parseFixture("dsmr50-iskra-am550-real-basjes.txt")
        let power = t.objects.first { $0.obis == OBISCode(1, 0, 1, 7, 0) }
        #expect(power?.values == ["00.433*kW"])
        #expect(t.raw == (try FixtureFiles.bytes("dsmr50-iskra-am550-real-basjes.txt")))
    }

    @Test func swedishCapitalisedReactiveUnits() throws {
        // Swedish meters print kVArh / kVAr (reference A3); units compare case-insensitively.
        let bytes = withRecomputedCRC(
            "/KFM5KAIFA-METER\r\n\r\n1-3:0.2.8(42)\r\n0-0:1.0.0(230101120000W)\r\n1-0:1.8.0(00012345.678*kWh)\r\n"
                + "1-0:3.8.0(00000123.456*kVArh)\r\n1-0:3.7.0(0000.123*kVAr)\r\n1-0:23.7.0(0000.045*kVAr)\r\n!XXXX\r\n")
        let t = try P1Parser.parse(bytes, receivedAt: receivedAt)
        #expect(t.issues.isEmpty)
        #expect(t.reading.number(.energyImport) == 12345.678)
        #expect(t.reading.number(.reactiveEnergyImport) == 123.456)
        #expect(t.reading.number(.reactivePowerImport) == 123)
        #expect(t.reading.number(Quantity.reactivePowerImport.phase(1)) == 45)
        #expect(t.reading.timeString(.meterTime) == "2023-01-01T12:00:00+01:00")
    }
}
