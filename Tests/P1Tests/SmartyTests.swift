import Foundation
import P1
import PhasorCore
import Testing

@Suite("Luxembourg Smarty encrypted frames")
struct SmartyTests {
    /// Keys and authentication data from Fixtures/SOURCES.md.
    static let esphomeKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    static let homeyKey = "0123456789abcdef0123456789abcdef"
    static let homeyAuthenticationKey: [UInt8] = [
        0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
    ]

    private func decrypt(_ path: String, key: String, tagCheck: SmartyDecryptor.TagCheck) throws -> (SmartyFrame, [UInt8]) {
        var splitter = SmartyFrameSplitter()
        let frames = splitter.append(try FixtureFiles.bytes(path))
        try #require(frames.count == 1)
        let frame = try SmartyFrame(bytes: frames[0])
        let decryptor = try SmartyDecryptor(key: try #require(SmartyDecryptor.keyBytes(hex: key)), tagCheck: tagCheck)
        return (frame, try decryptor.decrypt(frame))
    }

    @Test func esphomeFrameWithTheLuxmeteringAuthenticationKey() throws {
        let (frame, plaintext) = try decrypt(
            "encrypted/smarty-format-sagemcom-t210dr-esphome.bin", key: Self.esphomeKey,
            tagCheck: .authenticationKey(SmartyDecryptor.luxmeteringAuthenticationKey))
        #expect(String(decoding: frame.systemTitle, as: UTF8.self) == "SYSTEMID")
        // SOURCES.md writes the counter in hex ("10000001").
        #expect(frame.frameCounter == 0x1000_0001)
        #expect(frame.tag.count == 12)
        // The plaintext is the Austrian T210-D-r telegram, whose own CRC (7EF9) verifies.
        #expect(plaintext == (try FixtureFiles.bytes("dsmr50-austria-sagemcom-t210dr-dsmrparser.txt")))
        let t = try P1Parser.parse(plaintext, options: P1ParseOptions(decryptedFromSmarty: true), receivedAt: receivedAt)
        #expect(t.crc == .verified)
        #expect(t.variant == .luxembourgSmarty)
        #expect(t.reading.number(.energyImport) == 6545.766)
    }

    @Test func specExampleWithItsOwnAuthenticationKey() throws {
        let (frame, plaintext) = try decrypt(
            "encrypted/smarty-spec-example-aad-homey.bin", key: Self.homeyKey,
            tagCheck: .authenticationKey(Self.homeyAuthenticationKey))
        #expect(String(decoding: frame.systemTitle, as: UTF8.self) == "systitle")
        #expect(frame.frameCounter == 0x1122_3344)
        // The plaintext lacks the blank line after the header, so its printed CRC does not verify.
        #expect(throws: P1TelegramError.self) { _ = try P1Parser.parse(plaintext, receivedAt: receivedAt) }
        let t = try P1Parser.parse(
            plaintext, options: P1ParseOptions(verifyCRC: false, decryptedFromSmarty: true), receivedAt: receivedAt)
        #expect(t.reading.number(.energyImport) == 25.653)
        #expect(t.reading.number(.apparentPowerLimit) == 69_000)
        #expect(t.reading.number("gas2_volume") == 28.103)
    }

    @Test func specExampleWithoutAdditionalData() throws {
        let (_, plaintext) = try decrypt(
            "encrypted/smarty-spec-example-noaad-homey.bin", key: Self.homeyKey, tagCheck: .noAdditionalData)
        let (_, withAAD) = try decrypt(
            "encrypted/smarty-spec-example-aad-homey.bin", key: Self.homeyKey,
            tagCheck: .authenticationKey(Self.homeyAuthenticationKey))
        #expect(plaintext == withAAD)
    }

    @Test func wrongKeyOrWrongAuthenticationDataFailsTheTag() throws {
        #expect(throws: SmartyFrameError.authenticationFailed) {
            _ = try decrypt("encrypted/smarty-spec-example-aad-homey.bin", key: Self.esphomeKey, tagCheck: .noAdditionalData)
        }
        #expect(throws: SmartyFrameError.authenticationFailed) {
            _ = try decrypt(
                "encrypted/smarty-spec-example-aad-homey.bin", key: Self.homeyKey,
                tagCheck: .authenticationKey(SmartyDecryptor.luxmeteringAuthenticationKey))
        }
        // Skipping the tag decrypts; the inner CRC is then the only check.
        let (_, plaintext) = try decrypt(
            "encrypted/smarty-format-sagemcom-t210dr-esphome.bin", key: Self.esphomeKey, tagCheck: .skip)
        #expect(plaintext.first == UInt8(ascii: "/"))
    }

    @Test func splitterResynchronisesAfterGarbageAndPartialReads() throws {
        let frame = try FixtureFiles.bytes("encrypted/smarty-format-sagemcom-t210dr-esphome.bin")
        let stream = [0x00, 0xDB, 0x13] + Array(frame.suffix(30)) + frame + frame
        var splitter = SmartyFrameSplitter()
        var frames: [[UInt8]] = []
        for chunk in stride(from: 0, to: stream.count, by: 7) {
            frames += splitter.append(stream[chunk..<min(chunk + 7, stream.count)])
        }
        #expect(frames == [frame, frame])
        #expect(splitter.discardedBytes == 33)
    }

    @Test func malformedInputIsRejected() throws {
        #expect(throws: SmartyFrameError.notAFrame) { _ = try SmartyFrame(bytes: [0xDB, 0x08, 1, 2]) }
        #expect(throws: SmartyFrameError.invalidKey) { _ = try SmartyDecryptor(key: [1, 2, 3]) }
        #expect(SmartyDecryptor.keyBytes(hex: "zz") == nil)
        var bytes = try FixtureFiles.bytes("encrypted/smarty-format-sagemcom-t210dr-esphome.bin")
        bytes[13] = 0x10
        let frame = try SmartyFrame(bytes: bytes)
        let decryptor = try SmartyDecryptor(key: try #require(SmartyDecryptor.keyBytes(hex: Self.esphomeKey)))
        #expect(throws: SmartyFrameError.unsupportedSecurityControl(0x10)) { _ = try decryptor.decrypt(frame) }
    }
}
