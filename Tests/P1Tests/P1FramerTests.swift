import Foundation
import P1
import PhasorCore
import Testing

@Suite("P1 stream framing")
struct P1FramerTests {
    /// Feeds `bytes` in chunks of the given sizes (cycled), as a serial port would.
    private func frame(_ bytes: [UInt8], chunks: [Int], mask: Bool = false) -> (P1Framer, [P1RawTelegram]) {
        var framer = P1Framer(configuration: .init(maskSevenBit: mask))
        var out: [P1RawTelegram] = []
        var i = 0
        var k = 0
        while i < bytes.count {
            let n = min(chunks[k % chunks.count], bytes.count - i)
            out += framer.append(bytes[i..<(i + n)])
            i += n
            k += 1
        }
        return (framer, out)
    }

    @Test("Partial reads give the same telegrams", arguments: [[1], [7], [64, 3, 200], [4096]])
    func partialReads(chunks: [Int]) throws {
        let stream = try FixtureFiles.bytes("streams/dsmr50-iskra-am550-25-telegrams-basjes.txt")
        let (framer, telegrams) = frame(stream, chunks: chunks)
        #expect(telegrams.count == 25)
        #expect(framer.statistics.telegrams == 25)
        // The capture starts mid-telegram: that fragment is discarded, not parsed.
        #expect(framer.statistics.discardedBytes > 0)
        for t in telegrams {
            let parsed = try P1Parser.parse(t, receivedAt: receivedAt)
            #expect(parsed.crc == .verified)
        }
        let first = try P1Parser.parse(telegrams[0], receivedAt: receivedAt)
        let last = try P1Parser.parse(telegrams[24], receivedAt: receivedAt)
        #expect(first.reading.timeString(.meterTime) == "2019-03-24T15:05:19+01:00")
        #expect(last.meterTime.map { $0.date.timeIntervalSince(first.meterTime?.date ?? $0.date) } == 24)
    }

    @Test func gluedTelegramsGiveTwo() throws {
        let (_, telegrams) = frame(try FixtureFiles.bytes("bad/dsmr50-two-telegrams-glued.txt"), chunks: [100])
        #expect(telegrams.count == 2)
        for t in telegrams { #expect((try P1Parser.parse(t, receivedAt: receivedAt)).crc == .verified) }
    }

    @Test func garbagePrefixGivesExactlyOneValidTelegram() throws {
        let (framer, telegrams) = frame(try FixtureFiles.bytes("bad/dsmr50-garbage-prefix.txt"), chunks: [13])
        let valid = telegrams.filter { (try? P1Parser.parse($0, receivedAt: receivedAt)) != nil }
        #expect(valid.count == 1)
        #expect(framer.statistics.discardedBytes >= 40)
        let t = try P1Parser.parse(try #require(valid.first), receivedAt: receivedAt)
        #expect(t.reading.number(.powerImport) == 374)
    }

    @Test func truncatedFragmentIsDroppedNotMerged() throws {
        let (framer, telegrams) = frame(try FixtureFiles.bytes("bad/dsmr50-truncated-then-valid.txt"), chunks: [1])
        #expect(telegrams.count == 1)
        #expect(framer.statistics.truncatedTelegrams == 1)
        #expect(framer.statistics.discardedBytes == 300)
        let t = try P1Parser.parse(try #require(telegrams.first), receivedAt: receivedAt)
        // The fragment carried 1-0:1.7.0(00.382*kW); the complete telegram says 379 W.
        #expect(t.reading.number(.powerImport) == 379)
    }

    @Test func oversizeWithoutTerminatorIsDiscardedAtTheLimit() throws {
        let bytes = try FixtureFiles.bytes("bad/dsmr-oversize-no-terminator.txt")
        var framer = P1Framer(configuration: .init(maximumTelegramBytes: 8192))
        var peak = 0
        for chunk in stride(from: 0, to: bytes.count, by: 256) {
            #expect(framer.append(bytes[chunk..<min(chunk + 256, bytes.count)]).isEmpty)
            peak = max(peak, framer.pendingByteCount)
        }
        #expect(peak <= 8192)
        #expect(framer.statistics.oversizeTelegrams == 1)
        #expect(framer.statistics.discardedBytes + framer.pendingByteCount == bytes.count)
    }

    @Test("Incomplete input gives no telegram", arguments: ["bad/dsmr50-truncated-midline.txt", "bad/dsmr50-no-final-crlf.txt"])
    func incompleteInput(path: String) throws {
        let (framer, telegrams) = frame(try FixtureFiles.bytes(path), chunks: [5])
        #expect(telegrams.isEmpty)
        #expect(framer.pendingByteCount > 0)
    }

    @Test func sevenE1ReadAs8N1NeedsTheMask() throws {
        let bytes = try FixtureFiles.bytes("bad/dsmr22-read-as-8n1-parity-in-bit7.txt")
        #expect(bytes.contains { $0 >= 0x80 })
        let (unmasked, none) = frame(bytes, chunks: [32])
        #expect(none.isEmpty)
        #expect(unmasked.statistics.discardedBytes == bytes.count)
        let (_, masked) = frame(bytes, chunks: [32], mask: true)
        let base = try FixtureFiles.bytes("dsmr22-iskra-mt382-real-basjes.txt")
        #expect(masked.map(\.bytes) == [base])
        let t = try P1Parser.parse(try #require(masked.first), receivedAt: receivedAt)
        #expect(t.reading.number(.gasVolume) == 13368.864)
    }

    @Test func crcFollowedByNULIsAccepted() throws {
        let (_, telegrams) = frame(try FixtureFiles.bytes("bad/dsmr50-crc-followed-by-nul.txt"), chunks: [9])
        let t = try P1Parser.parse(try #require(telegrams.first), receivedAt: receivedAt)
        #expect(t.crc == .verified)
        #expect(t.reading.number(.powerImport) == 433)
    }

    @Test func nonHexCRCIsAMalformedEnding() throws {
        let (framer, telegrams) = frame(try FixtureFiles.bytes("bad/dsmr50-crc-not-hex.txt"), chunks: [50])
        #expect(telegrams.isEmpty)
        #expect(framer.statistics.malformedEndings == 1)
    }

    @Test func gatewayNoiseAfterQ3DTelegramIsDiscarded() throws {
        let bytes = try FixtureFiles.bytes("quirks/q3d-easymeter-esy5q3db1024-dsmrparser.txt")
        let (framer, telegrams) = frame(bytes, chunks: [16])
        #expect(telegrams.count == 1)
        #expect(framer.statistics.discardedBytes == bytes.count - telegrams[0].bytes.count)
        #expect(telegrams[0].bytes.last == 0x0A)
    }

    @Test func resetDropsAStartedTelegram() {
        var framer = P1Framer()
        _ = framer.append(Array("/ISK5\\2M550T\r\n\r\n1-0:1.7.0(00".utf8))
        #expect(framer.pendingByteCount > 0)
        framer.reset()
        #expect(framer.pendingByteCount == 0)
        #expect(framer.statistics.truncatedTelegrams == 1)
    }
}
