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

    @Test func outOfRangeChannelsArePublishedGenerically() throws {
        let bytes = withRecomputedCRC(
            "/ISK5\\2M550T-1012\r\n\r\n1-3:0.2.8(50)\r\n0-42:96.3.10(1)\r\n0-200:24.2.1(200426223001S)(00246.138*m3)\r\n!XXXX\r\n")
        let t = try P1Parser.parse(bytes, receivedAt: receivedAt)
        #expect(t.reading.number("obis_0_42_96_3_10") == 1)
        #expect(t.reading.text("obis_0_200_24_2_1") == "(200426223001S)(00246.138*m3)")
        #expect(t.mbusDevices.isEmpty)
    }

    @Test func notATelegram() {
        #expect(throws: P1TelegramError.notATelegram) { _ = try P1Parser.parse(Array("no slash!".utf8), receivedAt: receivedAt) }
        #expect(throws: P1TelegramError.notATelegram) { _ = try P1Parser.parse(Array("/no bang".utf8), receivedAt: receivedAt) }
    }

    @Test func crcCheckValue() {
        #expect(CRC16ARC.checksum(Array("123456789".utf8)) == 0xBB3D)
    }

    /// The table-driven CRC (16 bytes per step, then byte by byte) agrees with the
    /// bit-by-bit definition at every length around its step sizes.
    @Test func crcMatchesTheBitwiseDefinitionAtEveryLength() {
        func bitwise(_ bytes: [UInt8]) -> UInt16 {
            var crc: UInt16 = 0
            for b in bytes {
                crc ^= UInt16(b)
                for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
            }
            return crc
        }
        var state: UInt32 = 12_345
        let data: [UInt8] = (0..<200).map { _ in
            state = state &* 1_103_515_245 &+ 12_345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
        for length in 0...data.count {
            let bytes = Array(data[..<length])
            #expect(CRC16ARC.checksum(bytes) == bitwise(bytes), "length \(length)")
        }
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

/// Every file in bad/: telegrams the framer completes and how many of those the
/// parser accepts with the CRC checked (manifest `expect` in the comments).
let badFileOutcomes: [String: (framed: Int, accepted: Int)] = [
    "bad/dsmr-oversize-no-terminator.txt": (0, 0),  // buffer limit discards, no telegram
    "bad/dsmr22-read-as-8n1-parity-in-bit7.txt": (0, 0),  // unmasked: no "/" at all
    "bad/dsmr5-belgium-bitflip.txt": (1, 0),  // CRC mismatch
    "bad/dsmr50-bad-crc.txt": (1, 0),
    "bad/dsmr50-bitflip-obis.txt": (1, 0),
    "bad/dsmr50-bitflip-value.txt": (1, 0),
    "bad/dsmr50-crc-followed-by-nul.txt": (1, 1),  // tolerated
    "bad/dsmr50-crc-not-hex.txt": (0, 0),  // malformed ending
    "bad/dsmr50-garbage-prefix.txt": (1, 1),
    "bad/dsmr50-lf-only.txt": (1, 0),  // CRC only verifies over CR LF
    "bad/dsmr50-missing-crc.txt": (1, 0),  // DSMR 5 without CRC
    "bad/dsmr50-missing-paren-crc-valid.txt": (1, 1),  // identical to its base file, see above
    "bad/dsmr50-no-final-crlf.txt": (0, 0),  // waits for CR LF
    "bad/dsmr50-nonnumeric-value-crc-valid.txt": (1, 1),  // one value refused
    "bad/dsmr50-truncated-midline.txt": (0, 0),
    "bad/dsmr50-truncated-then-valid.txt": (1, 1),  // fragment dropped, not merged
    "bad/dsmr50-two-telegrams-glued.txt": (2, 2),
    "bad/dsmr50-unknown-obis-crc-valid.txt": (1, 1),
    "bad/upstream-basjes-bad-telegram.txt": (1, 1),  // cut-off first telegram dropped at the second "/"
]

@Test func everyBadFileHasItsOutcomeInAnyChunking() throws {
    let files = try FixtureFiles.all().filter { $0.hasPrefix("bad/") }
    #expect(Set(files) == Set(badFileOutcomes.keys))
    for path in files {
        let expected = try #require(badFileOutcomes[path])
        let bytes = try FixtureFiles.bytes(path)
        for chunk in [1, 5, 64, bytes.count] {
            var framer = P1Framer()
            var telegrams: [P1RawTelegram] = []
            for start in stride(from: 0, to: bytes.count, by: chunk) {
                telegrams += framer.append(bytes[start..<min(start + chunk, bytes.count)])
            }
            let accepted = telegrams.filter { (try? P1Parser.parse($0, receivedAt: receivedAt)) != nil }
            #expect(telegrams.count == expected.framed, "\(path) in chunks of \(chunk)")
            #expect(accepted.count == expected.accepted, "\(path) in chunks of \(chunk)")
        }
    }
}

@Test func fuzzerRegressionsParseWithoutCrashing() throws {
    let inputs = try FixtureFiles.all().filter { $0.hasPrefix("fuzz-regressions/") }
    #expect(!inputs.isEmpty)
    for path in inputs {
        let bytes = try FixtureFiles.bytes(path)
        // What the fuzz target does: parse with and without the CRC, then frame and parse.
        for verify in [true, false] {
            _ = try? P1Parser.parse(bytes, options: P1ParseOptions(verifyCRC: verify), receivedAt: receivedAt).reading
        }
        var framer = P1Framer()
        for t in framer.append(bytes) { _ = try? P1Parser.parse(t, options: P1ParseOptions(verifyCRC: false), receivedAt: receivedAt) }
        #expect(framer.statistics.telegrams + framer.statistics.discardedBytes + framer.pendingByteCount > 0)
        // The fuzz target's small-limit framer, fed in its uneven chunks: never holds more than its limit.
        var small = P1Framer(configuration: .init(maximumTelegramBytes: 512, maskSevenBit: (bytes.first ?? 0) & 1 == 1))
        var start = 0
        var chunk = 1
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            for telegram in small.append(bytes[start..<end]) { #expect(telegram.bytes.count <= 512, "\(path)") }
            #expect(small.pendingByteCount <= 512, "\(path)")
            start = end
            chunk = chunk * 3 % 61 + 1
        }
    }
}
