import Foundation
import P1
import PhasorCore
import Testing

/// How the parser cuts a telegram into lines and objects (its one-pass scanner, issue 15):
/// a line is every run of bytes without CR or LF, whatever mix of CR LF, bare LF, lone
/// CR and blank lines separates them; an object line that goes wrong after its values
/// is one malformed line and nothing else.
@Suite("P1 line splitting")
struct P1LineSplittingTests {
    static let telegram = Array(
        ("/XMX5LGBBFG1009021021\r\n\r\n"
            + "1-0:1.8.1(000001.000*kWh)\n"  // bare LF
            + "1-0:1.8.2(000002.000*kWh)\r1-0:2.8.1(000003.000*kWh)\r\n"  // a lone CR splits a line
            + "\r\r\n"
            + "1-0:2.8.2(000004.000*kWh)\r\r\n"
            + "0-0:96.14.0(0002)x\r\n"  // text after the last value
            + "1-0:32.7.0(230.1*V)(\r\n"  // an open group at the end
            + "0-3:24.1.0(003)\r\n"  // M-Bus channels out of order: 3 before 1
            + "0-3:24.2.1(101209112500W)(00002.000*m3)\r\n"
            + "0-1:24.1.0(003)\r\n"
            + "0-1:24.2.1(101209112500W)(00001.000*m3)\r\n"
            + "!\r\n").utf8)

    @Test func everyLineEndingSeparatesObjectsAndBrokenLinesAreConfined() throws {
        let t = try P1Parser.parse(Self.telegram, options: P1ParseOptions(verifyCRC: false), receivedAt: receivedAt)
        let r = t.reading
        #expect(r.number(Quantity.energyImport.tariff(1)) == 1)
        #expect(r.number(Quantity.energyImport.tariff(2)) == 2)
        #expect(r.number(Quantity.energyExport.tariff(1)) == 3)
        #expect(r.number(Quantity.energyExport.tariff(2)) == 4)
        #expect(r[.tariffIndicator] == nil)
        #expect(r[Quantity.voltage.phase(1)] == nil)
        #expect(t.issues.map(\.kind) == [.malformedLine, .malformedLine])
        #expect(t.issues.map(\.line) == ["0-0:96.14.0(0002)x", "1-0:32.7.0(230.1*V)("])
        #expect(t.objects.count == 8)
        #expect(t.objects.first?.values == ["000001.000*kWh"])
        #expect(t.objects.last?.values == ["101209112500W", "00001.000*m3"])
    }

    @Test func mbusDevicesAreNamedInChannelOrderWhateverOrderTheLinesCame() throws {
        let t = try P1Parser.parse(Self.telegram, options: P1ParseOptions(verifyCRC: false), receivedAt: receivedAt)
        #expect(t.mbusDevices.map(\.channel) == [1, 3])
        #expect(t.mbusDevices.map(\.valueQuantity) == [.gasVolume, "gas2_volume"])
        #expect(t.reading.number(.gasVolume) == 1)
        #expect(t.reading.number("gas2_volume") == 2)
        #expect(t.reading.timeString(.gasVolumeTime) == "2010-12-09T11:25:00+01:00")
        #expect(t.values.suffix(4).map(\.quantity) == [.gasVolume, .gasVolumeTime, "gas2_volume", "gas2_volume_time"])
    }

    /// A value and its unit are split at the first `*`; the number before it must be
    /// `[-]digits[.digits]` of at most 18 digits, whatever follows.
    @Test func valuesSplitAtTheFirstStar() throws {
        let bytes = Array(
            ("/XMX5LGBBFG1009021021\r\n\r\n"
                + "1-0:1.8.1(1234567890123456789*kWh)\r\n"  // 19 digits: refused
                + "1-0:1.8.2(-000002.5*kWh)\r\n"
                + "1-0:2.8.1(3.0*kWh*x)\r\n"  // unit `kWh*x`: refused
                + "1-0:2.8.2(4.0.1*kWh)\r\n"  // two dots
                + "1-0:1.7.0(*kW)\r\n"  // no digits
                + "1-0:94.1.1(12a*kW)\r\n"  // unknown object, not a number: text
                + "1-0:94.1.2(-7.25*xy*z)\r\n"  // unknown object: number, unit after the first star
                + "1-0:2.7.0(0.5)\r\n"  // no unit: the specification's kW
                + "!\r\n").utf8)
        let t = try P1Parser.parse(bytes, options: P1ParseOptions(verifyCRC: false), receivedAt: receivedAt)
        #expect(
            t.issues.map(\.kind) == [.invalidValue, .unexpectedUnit, .invalidValue, .invalidValue])
        #expect(t.reading.number(Quantity.energyImport.tariff(2)) == -2.5)
        #expect(t.reading.text("obis_1_0_94_1_1") == "12a*kW")
        #expect(t.reading.number("obis_1_0_94_1_2") == -7.25)
        #expect(t.genericUnits["obis_1_0_94_1_2"] == "xy*z")
        #expect(t.reading.number(.powerExport) == 500)
    }
}
