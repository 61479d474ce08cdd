import Foundation
import TIC
import Testing

@Suite("TIC link state")
struct TICLinkMonitorTests {
    typealias Monitor = TICLinkMonitor<ContinuousClock.Instant>
    let t0 = ContinuousClock.Instant.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { t0.advanced(by: .milliseconds(Int(seconds * 1000))) }

    func frame() throws -> [UInt8] { try FixtureFiles.bytes("tic-historique-mono-base-teleinfo2mqtt.txt") }

    @Test func nothingAtAllIsAbsent() {
        var m = Monitor()
        #expect(m.observe(nil, at: at(0)) == .absent)
        #expect(m.observe(nil, at: at(60)) == .absent)
        #expect(m.state(at: at(3600)) == .absent)
    }

    @Test func validFramesAreOK() throws {
        var m = Monitor()
        let bytes = try frame()
        // A frame split across two reads.
        #expect(m.observe(Array(bytes.prefix(50)), at: at(0)) == .absent)
        #expect(m.observe(Array(bytes.dropFirst(50)), at: at(0.5)) == .ok)
        #expect(m.observe(nil, at: at(4)) == .ok)
    }

    @Test func bytesThatNeverFormAFrameAreNotActivated() {
        var m = Monitor()
        var t = 0.0
        var state = Monitor.State.absent
        while t < 12 {
            // What a standard-mode line gives at 1200 Bd: bytes, never STX…ETX with a valid group.
            state = m.observe([0x55, 0x7E, 0x0A, 0x41, 0x0D], at: at(t))
            if t < 9.5 { #expect(state == .absent) }
            t += 0.5
        }
        #expect(state == .notActivated)
    }

    @Test func silenceAfterFramesIsInterrupted() throws {
        var m = Monitor()
        #expect(m.observe(try frame(), at: at(0)) == .ok)
        #expect(m.observe(nil, at: at(4.9)) == .ok)
        #expect(m.observe(nil, at: at(5.1)) == .interrupted)
        #expect(m.observe(try frame(), at: at(20)) == .ok)
    }

    @Test func garbageAfterFramesIsInterrupted() throws {
        var m = Monitor()
        #expect(m.observe(try frame(), at: at(0)) == .ok)
        for k in 1...12 { _ = m.observe([0x41, 0x42], at: at(Double(k))) }
        #expect(m.state(at: at(12)) == .interrupted)
    }

    @Test func eotInterruptsUntilTheNextFrame() throws {
        var m = Monitor()
        let bytes = try frame()
        #expect(m.observe(bytes, at: at(0)) == .ok)
        #expect(m.observe(Array(bytes.prefix(40)) + [0x04], at: at(1)) == .interrupted)
        #expect(m.observe(bytes, at: at(2)) == .ok)
    }
}
