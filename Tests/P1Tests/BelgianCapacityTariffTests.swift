import Foundation
import P1
import PhasorCore
import Testing

@Suite("Belgian e-MUCS capacity tariff and M-Bus")
struct BelgianCapacityTariffTests {
    @Test func quarterHourAverageAndMonthPeak() throws {
        let t = try parseFixture("dsmr5-belgium-fluvius-v171-dsmrparser.txt")
        #expect(t.variant == .belgianEMUCS)
        #expect(t.versionCode == "50217")
        #expect(t.nominalPeriod == .seconds(1))
        // 1-0:1.4.0(02.351*kW), 1-0:1.6.0(200509134558S)(02.589*kW)
        #expect(t.reading.number(.powerImportQuarterHourAverage) == 2351)
        #expect(t.reading.number(.powerImportMonthPeak) == 2589)
        #expect(t.reading.timeString(.powerImportMonthPeakTime) == "2020-05-09T13:45:58+02:00")
        #expect(t.currentMonthPeak?.power == 2589)
        #expect(t.currentMonthPeak?.peakTime?.iso8601 == "2020-05-09T13:45:58+02:00")
        #expect(t.reading.text(.tariffIndicator) == "0001")
        #expect(t.reading.number(Quantity.voltage.phase(2)) == 234.7)
        #expect(t.reading.number(Quantity.currentLimit.phase(1)) == 999)
        #expect(t.reading.number(.powerLimit) == 999_900)
        #expect(t.reading.text(.meterID) == "1SAG3101021605")
    }

    @Test func monthPeakHistoryIsTypedOldestFirst() throws {
        let t = try parseFixture("dsmr5-belgium-fluvius-v171-dsmrparser.txt")
        let h = t.monthPeakHistory
        try #require(h.count == 3)
        #expect(h[0].monthStart?.iso8601 == "2020-05-01T00:00:00+02:00")
        #expect(h[0].peakTime?.iso8601 == "2020-04-23T19:25:38+02:00")
        #expect(h[0].power == 3695)
        #expect(h[1].power == 5980)
        #expect(h[2].peakTime?.iso8601 == "2020-02-10T03:54:21+01:00")
        #expect(h[2].power == 4318)
    }

    @Test func placeholderPeakTimeIsNil() throws {
        let t = try parseFixture("dsmr5-belgium-fluvius-v171-alt-dsmrparser.txt")
        let h = t.monthPeakHistory
        try #require(h.count == 4)
        // (230801000000S)(632525252525W)(00.000*kW): no date for the first month.
        #expect(h[0].monthStart?.iso8601 == "2023-08-01T00:00:00+02:00")
        #expect(h[0].peakTime == nil)
        #expect(h[0].power == 0)
        #expect(h[3].power == 4927)
        #expect(h[3].monthStart?.iso8601 == "2023-11-01T00:00:00+01:00")
        #expect(t.reading.number(.powerImportMonthPeak) == 3064)
        #expect(t.reading.timeString(.powerImportMonthPeakTime) == "2023-11-02T11:45:00+01:00")
        #expect(t.reading.number(.powerImportQuarterHourAverage) == 52)
        #expect(t.reading.number(Quantity.current.phase(2)) == 0.88)
    }

    @Test func gasAndWaterArePublishedByMedium() throws {
        let t = try parseFixture("dsmr5-belgium-fluvius-v171-dsmrparser.txt")
        // Gas on channel 1 (24.2.3, BE), water on channel 2 (24.2.1).
        #expect(t.reading.number(.gasVolume) == 112.384)
        #expect(t.reading.timeString(.gasVolumeTime) == "2020-05-12T13:45:58+02:00")
        #expect(t.reading.text("gas_meter_id") == "7FLO2119033733")
        #expect(t.reading.number("gas_valve_state") == 1)
        #expect(t.reading.number(.waterVolume) == 872.234)
        #expect(t.reading.timeString(.waterVolumeTime) == "2020-05-12T13:45:58+02:00")
        #expect(t.mbusDevices.map(\.channel) == [1, 2])
        #expect(t.mbusDevices.map(\.medium) == [.gas, .water])
    }

    @Test func emucs211RelaysEANAndUnknownObject() throws {
        let t = try parseFixture("crc-mismatch/dsmr5-belgium-emucs211-spec-example-1-homey.txt", verifyCRC: false)
        #expect(t.versionCode == "50221")
        // 1-0:94.32.1(400): meaning unconfirmed, published generically.
        #expect(t.reading.number("obis_1_0_94_32_1") == 400)
        #expect(t.reading.text(.meterEAN) == "541440012345678900")
        #expect(t.reading.number(.relayState(4)) == 0)
        // Gas and water both on 24.2.3 in e-MUCS 2.1.1.
        #expect(t.reading.number(.gasVolume) == 112.384)
        #expect(t.reading.number(.waterVolume) == 872.234)
        #expect(t.reading.text("water_meter_ean") == "541440012345678903")
        #expect(t.reading.number(Quantity.currentLimit.phase(1)) == 999.99)
    }
}
