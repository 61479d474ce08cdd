import Foundation
import PhasorCore
import Testing

/// The heartbeat contract and how a judge reads it (issue 9, defect 4).
@Suite struct LivenessTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func beat(at time: Date, interval: TimeInterval = 5) -> [UInt8] {
        HeartbeatPayload(service: "control", started: t0, time: time, interval: interval).encode()
    }

    @Test func aHeartbeatRoundTrips() throws {
        let decoded = try HeartbeatPayload.decode(beat(at: t0.addingTimeInterval(3)))
        #expect(decoded == HeartbeatPayload(service: "control", started: t0, time: t0.addingTimeInterval(3), interval: 5))
        #expect(throws: PayloadError.self) { try HeartbeatPayload.decode(Array(#"{"service":"control","started":"x","time":"y","interval_s":5}"#.utf8)) }
        #expect(throws: PayloadError.self) { try HeartbeatPayload.decode(Array(#"{"service":"c","started":"2027-01-15T08:00:00Z","time":"2027-01-15T08:00:00Z","interval_s":0}"#.utf8)) }
    }

    @Test func aRetainedOnlineWithAnOldBeatIsSilent() {
        var judge = ServiceLiveness()
        #expect(judge.verdict(now: t0) == .unknown)
        judge.record(status: "online")
        #expect(judge.verdict(now: t0) == .online, "no beat at all: an older service, judged by its status")
        judge.record(heartbeat: beat(at: t0))
        #expect(judge.verdict(now: t0.addingTimeInterval(15)) == .online)
        #expect(judge.verdict(now: t0.addingTimeInterval(16)) == .silent(age: 16))
        // An older beat (a queued one arriving late) does not replace a newer one.
        judge.record(heartbeat: beat(at: t0.addingTimeInterval(20)))
        judge.record(heartbeat: beat(at: t0.addingTimeInterval(10)))
        #expect(judge.verdict(now: t0.addingTimeInterval(30)) == .online)
        judge.record(status: "offline")
        #expect(judge.verdict(now: t0.addingTimeInterval(21)) == .offline)
        judge.record(status: "")
        #expect(judge.verdict(now: t0) == .unknown)
    }

    @Test func theGatewaysPatienceFollowsControlsDecisionRate() {
        #expect(DecisionTiming.setpointTimeout == DecisionTiming.interval * 5)
        #expect(DecisionTiming.setpointTimeout <= 10, "seconds, not a minute")
    }
}
