import Foundation
import PhasorCore
import Testing

/// What refusals quote (short, valid UTF-8, marked when cut), how numbers are read
/// from JSON (0 and 1 are numbers, `true` is not) and written (no float noise).
@Suite struct CommandTextTests {
    @Test func excerptsAreShortValidAndMarkedWhenCut() {
        #expect(Excerpt.of("solar") == "solar")
        #expect(Excerpt.of(String(repeating: "a", count: 64)) == String(repeating: "a", count: 64))
        let cut = Excerpt.of(String(repeating: "a", count: 1_048_576))
        #expect(cut == String(repeating: "a", count: 64) + "… (1048576 bytes)")
        // 2-, 3- and 4-byte scalars: never split, never over the limit.
        for scalar in ["é", "€", "🔌"] {
            let text = String(repeating: scalar, count: 100)
            for excerpt in [Excerpt.of(text, maxBytes: 64), Excerpt.of(Array(text.utf8), maxBytes: 64)] {
                let kept = excerpt.components(separatedBy: "…").first ?? ""
                #expect(kept.utf8.count <= 64 && kept.utf8.count > 60 && kept.allSatisfy { String($0) == scalar }, "\(excerpt)")
                #expect(excerpt.hasSuffix("… (\(text.utf8.count) bytes)"))
            }
        }
        // Invalid UTF-8 comes out as replacement characters, still valid text.
        #expect(Excerpt.of([0x61, 0xFF, 0x62]) == "a\u{FFFD}b")
    }

    @Test func zeroAndOneAreNumbersAndBooleansAreNot() throws {
        for (text, value) in [(#"{"n": 0}"#, 0.0), (#"{"n": 1}"#, 1), (#"{"n": 0.0}"#, 0), (#"{"n": 1e0}"#, 1), (#"{"n": -1}"#, -1)] {
            #expect(try JSONObject(Array(text.utf8)).number("n") == value, "\(text)")
        }
        for text in [#"{"n": true}"#, #"{"n": false}"#] {
            #expect(throws: PayloadError.invalidField("n", reason: "must be a number")) { try JSONObject(Array(text.utf8)).number("n") }
        }
        #expect(try JSONObject(Array(#"{"b": true}"#.utf8)).bool("b") == true)
        #expect(throws: PayloadError.invalidField("b", reason: "must be true or false")) { try JSONObject(Array(#"{"b": 1}"#.utf8)).bool("b") }
        // A setpoint of 0 A pauses charging: it must never be refused as "not a number".
        #expect(try SetpointPayload.decode(Array(#"{"current": 0}"#.utf8)).current == 0)
        #expect(try SetpointPayload.decode(Array(#"{"current": 1, "phases": 1, "sequence": 0}"#.utf8)).sequence == 0)
    }

    @Test func numbersAreWrittenWithoutFloatNoise() {
        #expect(131 * 0.1 == 13.100000000000001)
        #expect(JSONWriter.format(131 * 0.1) == "13.1")
        #expect(JSONWriter.format(0.1 + 0.2) == "0.3")
        #expect(JSONWriter.format(3 * 4.333333333333333) == "13")
        #expect(String(decoding: SetpointPayload(current: 131 * 0.1).encode(), as: UTF8.self).hasPrefix(#"{"current":13.1,"#))
        // Real values are written as they are.
        for value in [0.1234567, 230.4, 1e-7, 12345.678, -0.001, 1.0000001, 123456789.123] {
            #expect(Double(JSONWriter.format(value)) == value, "\(value)")
        }
    }
}
