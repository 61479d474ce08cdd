import Foundation
import PhasorCore
import Testing

@Suite("Charge-point payloads (gateway ⇄ control contract)")
struct ChargePointPayloadTests {
    let t = Date(timeIntervalSince1970: 1_795_000_000.25)

    @Test func stateRoundTrips() throws {
        let state = ChargePointStatePayload(
            id: "cp1", time: t, online: true, status: .charging, rawStatus: "C2", phasesInUse: 3,
            currents: [15.9, 16.1, nil], power: 7400, energyImport: 1234.5, currentLimit: 16, enabled: true,
            fallbackActive: false, minCurrent: 6, maxCurrent: 32, safeCurrent: 8, phases: 3, canSwitchPhases: true)
        let back = try ChargePointStatePayload.decode(state.encode())
        #expect(back == state)
        let text = String(decoding: state.encode(), as: UTF8.self)
        #expect(text.contains(#""current_l1":15.9"#))
        #expect(text.contains(#""current_l3":null"#))
        #expect(text.contains(#""energy_import":1234.5"#))
    }

    @Test func stateRejectsUnknownStatusAndWrongTypes() {
        #expect(throws: PayloadError.invalidField("status", reason: "one of disconnected, connected, charging, error, unknown")) {
            try ChargePointStatePayload.decode(Array(#"{"id":"a","time":"2026-01-01T00:00:00Z","online":true,"status":"plugged"}"#.utf8))
        }
        #expect(throws: PayloadError.invalidField("online", reason: "must be true or false")) {
            try ChargePointStatePayload.decode(Array(#"{"id":"a","time":"2026-01-01T00:00:00Z","online":1,"status":"charging"}"#.utf8))
        }
    }

    @Test func setpointRoundTripsAndAcceptsAPlainNumber() throws {
        let s = SetpointPayload(current: 10.5, phases: 1, sequence: 42, time: t, reason: "slider budget")
        #expect(try SetpointPayload.decode(s.encode()) == s)
        #expect(try SetpointPayload.decode(Array(" 12\n".utf8)) == SetpointPayload(current: 12))
    }

    @Test(arguments: [
        (#"{"current":"ten"}"#, PayloadError.invalidField("current", reason: "must be a number")),
        (#"{"current":true}"#, PayloadError.invalidField("current", reason: "must be a number")),
        (#"{"phases":3}"#, PayloadError.missingField("current")),
        (#"{"current":10,"phases":2}"#, PayloadError.invalidField("phases", reason: "must be 1 or 3")),
        (#"{"current":10,"amps":3}"#, PayloadError.invalidField("amps", reason: "unknown field")),
        (#"{"current":10,"sequence":-1}"#, PayloadError.invalidField("sequence", reason: "must not be negative")),
        (#"{"current":10,"time":"yesterday"}"#, PayloadError.invalidField("time", reason: "must be an ISO 8601 time with offset")),
        ("ten", PayloadError.notAnObject),
        ("nan", PayloadError.invalidField("current", reason: "must be a finite number")),
    ])
    func malformedSetpointsAreRefusedWithTheField(payload: String, error: PayloadError) {
        #expect(throws: error) { try SetpointPayload.decode(Array(payload.utf8)) }
    }

    @Test func appliedRoundTrips() throws {
        let a = AppliedPayload(time: t, result: .refused, current: 40, sequence: 7, reason: "above the profile's 32 A")
        #expect(try AppliedPayload.decode(a.encode()) == a)
    }

    @Test func iso8601ParsesWhatItFormats() throws {
        for offset in [0, 3600, 7200, -18_000] {
            let text = ISO8601.format(t, utcOffsetSeconds: offset)
            let parsed = try #require(ISO8601.parse(text))
            #expect(parsed.utcOffsetSeconds == offset)
            #expect(abs(parsed.date.timeIntervalSince(t)) < 0.001)
        }
        // Just below a whole second rounds up to it, never back to the second before.
        #expect(ISO8601.format(Date(timeIntervalSince1970: 1_800_000_000.9996), utcOffsetSeconds: 0) == "2027-01-15T08:00:01Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: 1_800_000_000.0504), utcOffsetSeconds: 0) == "2027-01-15T08:00:00.050Z")
        #expect(ISO8601.parse("2026-13-01T00:00:00Z") == nil)
        #expect(ISO8601.parse("2026-01-01T00:00:00") == nil)
        #expect(ISO8601.parse("2026-01-01T00:00:00+0100") == nil)
    }
}
