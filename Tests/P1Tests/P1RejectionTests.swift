import Foundation
import P1
import PhasorCore
import Testing

@Suite("Broken telegrams are rejected or confined")
struct P1RejectionTests {
    @Test(
        "A wrong CRC rejects the whole telegram",
        arguments: [
            "bad/dsmr5-belgium-bitflip.txt", "bad/dsmr50-bad-crc.txt", "bad/dsmr50-bitflip-obis.txt",
            "bad/dsmr50-bitflip-value.txt", "bad/dsmr50-lf-only.txt",
        ])
    func crcMismatch(path: String) throws {
        var framer = P1Framer()
        let telegrams = framer.append(try FixtureFiles.bytes(path))
        try #require(telegrams.count == 1)
        #expect {
            _ = try P1Parser.parse(telegrams[0], receivedAt: receivedAt)
        } throws: { error in
            guard case P1TelegramError.crcMismatch(let printed, let computed) = error else { return false }
            return printed != computed
        }
    }

    @Test func missingCRCOnDSMR5IsRejected() throws {
        var framer = P1Framer()
        let telegrams = framer.append(try FixtureFiles.bytes("bad/dsmr50-missing-crc.txt"))
        try #require(telegrams.count == 1)
        #expect(throws: P1TelegramError.missingCRC(.dsmr5)) {
            _ = try P1Parser.parse(telegrams[0], receivedAt: receivedAt)
        }
        // With checking off (known-bad sources) it parses.
        let t = try P1Parser.parse(telegrams[0], options: P1ParseOptions(verifyCRC: false), receivedAt: receivedAt)
        #expect(t.crc == .notChecked(printed: nil))
        #expect(t.reading.number(.powerImport) == 433)
    }

    @Test func upstreamBadTelegramWholeIsRejectedButTheFramerRecoversTheComplete() throws {
        let bytes = try FixtureFiles.bytes("bad/upstream-basjes-bad-telegram.txt")
        // Parsed as one telegram (as its upstream test does), the CRC fails.
        #expect(throws: P1TelegramError.crcMismatch(printed: 0x34B6, computed: 0x3B4A)) {
            _ = try P1Parser.parse(bytes, receivedAt: receivedAt)
        }
        // Framed, the cut-off first telegram is dropped at the second "/" and the second verifies.
        var framer = P1Framer()
        let telegrams = framer.append(bytes)
        #expect(framer.statistics.truncatedTelegrams == 1)
        let t = try P1Parser.parse(try #require(telegrams.first), receivedAt: receivedAt)
        #expect(t.reading.number(.powerExport) == 2857)
    }

    @Test func missingParenthesisSkipsOnlyThatLine() throws {
        // testdata's dsmr50-missing-paren-crc-valid.txt is byte-identical to its base file
        // (the ")" was not removed), so the case is built here: drop the ")" of 1-0:1.7.0
        // and recompute the CRC.
        let base = try FixtureFiles.bytes("dsmr50-iskra-am550-real-basjes.txt")
        #expect(try FixtureFiles.bytes("bad/dsmr50-missing-paren-crc-valid.txt") == base)
        var text = String(decoding: base, as: UTF8.self)
        text = text.replacingOccurrences(of: "1-0:1.7.0(00.433*kW)", with: "1-0:1.7.0(00.433*kW")
        let t = try P1Parser.parse(withRecomputedCRC(text), receivedAt: receivedAt)
        #expect(t.crc == .verified)
        #expect(t.issues == [P1LineIssue(kind: .malformedLine, line: "1-0:1.7.0(00.433*kW")])
        #expect(t.reading[.powerImport] == nil)
        #expect(t.reading.number(.powerExport) == 0)
        #expect(t.reading.number(Quantity.energyImport.tariff(1)) == 3432.829)
    }

    @Test func nonNumericValueIsNotPublished() throws {
        let t = try parseFixture("bad/dsmr50-nonnumeric-value-crc-valid.txt")
        #expect(t.issues == [P1LineIssue(kind: .invalidValue, line: "1-0:1.8.1(00343X.829*kWh)")])
        #expect(t.reading[Quantity.energyImport.tariff(1)] == nil)
        #expect(t.reading.number(Quantity.energyImport.tariff(2)) == 3224.632)
    }

    @Test func unknownObjectIsPublishedGenerically() throws {
        let t = try parseFixture("bad/dsmr50-unknown-obis-crc-valid.txt")
        #expect(t.issues.isEmpty)
        let unknown = try #require(t.objects.first { $0.obis == OBISCode(1, 0, 99, 99, 9) })
        let name = Quantity(OBISCode(1, 0, 99, 99, 9).genericQuantityName)
        #expect(name == "obis_1_0_99_99_9")
        if let value = unknown.values.first, let star = value.firstIndex(of: "*") {
            #expect(t.reading.number(name) == Double(value[..<star]))
            #expect(t.genericUnits[name] == String(value[value.index(after: star)...]))
        } else {
            #expect(t.reading.text(name) == unknown.values.joined())
        }
        #expect(t.reading.number(.powerImport) == 433)
    }

    @Test func unitThatDoesNotFitIsRefused() throws {
        let bytes = withRecomputedCRC(
            "/ISK5\\2M550T-1012\r\n\r\n1-3:0.2.8(50)\r\n1-0:1.7.0(00.433*m3)\r\n1-0:2.7.0(00.100*kW)\r\n!XXXX\r\n")
        let t = try P1Parser.parse(bytes, receivedAt: receivedAt)
        #expect(t.issues.map(\.kind) == [.unexpectedUnit])
        #expect(t.reading[.powerImport] == nil)
        #expect(t.reading.number(.powerExport) == 100)
    }

    @Test func notATelegram() {
        #expect(throws: P1TelegramError.notATelegram) { _ = try P1Parser.parse(Array("no slash!".utf8), receivedAt: receivedAt) }
        #expect(throws: P1TelegramError.notATelegram) { _ = try P1Parser.parse(Array("/no bang".utf8), receivedAt: receivedAt) }
    }

    @Test func crcCheckValue() {
        #expect(CRC16ARC.checksum(Array("123456789".utf8)) == 0xBB3D)
    }

    @Test func threeDigitCRCIsTheValueWithoutItsLeadingZero() throws {
        let t = try parseFixture("quirks/dsmr50-warmtelink-heat-unpadded-crc-dsmrparser.txt")
        #expect(t.crc == .verified)
        let bang = try #require(t.raw.firstIndex(of: UInt8(ascii: "!")))
        #expect(CRC16ARC.checksum(t.raw[...bang]) == 0x0B9F)
    }
}

/// Replaces the CRC after "!" by the CRC of the text up to "!", as a meter would print it.
func withRecomputedCRC(_ text: String) -> [UInt8] {
    var bytes = Array(text.utf8)
    guard let bang = bytes.firstIndex(of: UInt8(ascii: "!")) else { return bytes }
    let digits = String(CRC16ARC.checksum(bytes[...bang]), radix: 16, uppercase: true)
    let padded = String(repeating: "0", count: 4 - digits.count) + digits
    bytes.replaceSubrange((bang + 1)..<(bang + 5), with: Array(padded.utf8))
    return bytes
}
