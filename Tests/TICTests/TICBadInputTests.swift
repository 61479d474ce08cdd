import Foundation
import PhasorCore
import TIC
import Testing

@Suite("Broken TIC input")
struct TICBadInputTests {
    static let coveredFiles = [
        "bad/tic-historique-bad-checksum.txt", "bad/tic-historique-bitflip-label.txt",
        "bad/tic-historique-eot-interrupted.txt", "bad/tic-historique-truncated-no-etx.txt",
        "bad/tic-standard-bad-checksum.txt", "bad/tic-standard-bitflip-data.txt",
        "bad/tic-standard-cr-lf-swapped.txt", "bad/tic-standard-garbage-prefix.txt",
        "bad/tic-standard-missing-etx-then-stx.txt", "bad/tic-standard-read-as-8n1-parity-in-bit7.txt",
        "bad/upstream-linky-3p-historique-crlf-mangled-no-etx-ticdecodecpp.txt",
        "bad/upstream-linky-3p-historique-rx-errors-ticdecodecpp.txt",
    ]

    @Test func badChecksumDropsOnlyThatGroup() throws {
        let f = try parseFrame("bad/tic-historique-bad-checksum.txt")
        #expect(f.checksumFailures == 1)
        #expect(f.isComplete == false)
        #expect(f.reading[.apparentPower] == nil)  // PAPP dropped
        #expect(f.groups.contains { $0.label == "PAPP" } == false)
        #expect(f.reading.number(.energyImport) == 10151.175)
        #expect(f.groups.count == 15)
    }

    @Test func bitflipInLabelDropsTheGroup() throws {
        let f = try parseFrame("bad/tic-historique-bitflip-label.txt")
        #expect(f.checksumFailures == 1)
        #expect(f.reading[.energyImport] == nil)  // BASE dropped
        #expect(f.reading.number(.apparentPower) == 740)
    }

    @Test(arguments: ["bad/tic-standard-bad-checksum.txt", "bad/tic-standard-bitflip-data.txt"])
    func standardBadGroup(path: String) throws {
        let f = try parseFrame(path)
        #expect(f.checksumFailures == 1)
        #expect(f.reading[.energyImport] == nil)  // EAST dropped
        #expect(f.reading.number(Quantity.energyImport.tariff(1)) == 11887.649)
        #expect(f.groups.count == 37)
    }

    @Test func eotDropsTheInterruptedFrame() throws {
        var framer = TICFramer()
        let frames = framer.append(try FixtureFiles.bytes("bad/tic-historique-eot-interrupted.txt"))
        #expect(frames.count == 1)
        #expect(framer.statistics.interruptedFrames == 1)
        let f = try TICParser.parse(try #require(frames.first), receivedAt: receivedAt)
        #expect(f.isComplete)
        #expect(f.groups.count == 16)
    }

    @Test func truncatedFrameIsNeverPublished() throws {
        var framer = TICFramer()
        #expect(framer.append(try FixtureFiles.bytes("bad/tic-historique-truncated-no-etx.txt")).isEmpty)
    }

    @Test func swappedDelimitersAreMalformed() throws {
        var framer = TICFramer()
        let frames = framer.append(try FixtureFiles.bytes("bad/tic-standard-cr-lf-swapped.txt"))
        try #require(frames.count == 1)
        #expect {
            _ = try TICParser.parse(frames[0], receivedAt: receivedAt)
        } throws: { error in
            guard case TICFrameError.noValidGroup(let checksumFailures, let malformed) = error else { return false }
            return checksumFailures == 0 && malformed >= 38
        }
    }

    @Test(arguments: ["bad/tic-standard-garbage-prefix.txt", "bad/tic-standard-missing-etx-then-stx.txt"])
    func exactlyOneValidFrame(path: String) throws {
        var framer = TICFramer()
        let frames = framer.append(try FixtureFiles.bytes(path))
        let valid = frames.compactMap { try? TICParser.parse($0, receivedAt: receivedAt) }.filter(\.isComplete)
        #expect(valid.count == 1)
        #expect(valid.first?.reading.number(.energyImport) == 11887.649)
        #expect(framer.statistics.discardedBytes > 0)
    }

    @Test func parityBitIsMasked() throws {
        let bytes = try FixtureFiles.bytes("bad/tic-standard-read-as-8n1-parity-in-bit7.txt")
        let base = try FixtureFiles.bytes("tic-standard-mono-base-linky-ticdecodecpp.txt")
        #expect(bytes.map { $0 & 0x7F } == base)
        var masked = TICFramer()
        #expect(masked.append(bytes).map(\.bytes) == [base])
        var unmasked = TICFramer(configuration: .init(maskSevenBit: false))
        let raw = unmasked.append(bytes)
        #expect(raw.allSatisfy { (try? TICParser.parse($0, receivedAt: receivedAt)) == nil })
    }

    @Test func mangledCaptureWithoutETXGivesNoFrame() throws {
        var framer = TICFramer()
        #expect(framer.append(try FixtureFiles.bytes("bad/upstream-linky-3p-historique-crlf-mangled-no-etx-ticdecodecpp.txt")).isEmpty)
        #expect(framer.statistics.truncatedFrames > 0)
    }

    @Test func receiveErrorsNeverPublishABadGroup() throws {
        let bytes = try FixtureFiles.bytes("bad/upstream-linky-3p-historique-rx-errors-ticdecodecpp.txt")
        var framer = TICFramer()
        #expect(framer.append(bytes).isEmpty)
        // Even wrapped as one frame, only checksum-valid groups come out.
        var wrapped: [UInt8] = [0x02]
        for chunk in bytes.split(separator: 0x0A) { wrapped += [0x0A] + chunk + [0x0D] }
        wrapped.append(0x03)
        let f = try TICParser.parse(wrapped, receivedAt: receivedAt)
        #expect(f.checksumFailures > 50)
        #expect(f.groups.count > 200)
        for g in f.groups where g.label.hasPrefix("IINST") { #expect(g.data.count == 3) }
    }
}
