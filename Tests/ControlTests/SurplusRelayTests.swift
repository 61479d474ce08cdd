import Foundation
import Testing

@testable import Control

/// Product spec §2, "Relays": a plain relay on solar surplus with thresholds,
/// hysteresis and minimum on/off times, and timers that force it on (an OR beside the
/// automatic logic), on virtual time.
@Suite struct SurplusRelayTests {
    static let t0 = Date(timeIntervalSince1970: 1_780_000_000)
    static let boiler = SurplusRelayConfig(
        id: "boiler", powerW: 2400, hysteresisW: 400, minOnSeconds: 600, minOffSeconds: 300)

    @Test func onAboveItsPowerOffBelowTheHysteresisWithMinimumTimes() {
        var m = SurplusRelayMachine(on: false, since: Self.t0 - 1000)
        // 2300 W of surplus: not enough.
        #expect(m.step(.init(surplusW: 2300), config: Self.boiler, now: Self.t0) == .noSurplus)
        #expect(!m.on)
        #expect(m.step(.init(surplusW: 2400), config: Self.boiler, now: Self.t0 + 1) == .surplus)
        #expect(m.on)
        // Inside the hysteresis band it stays on; below it, it waits for its minimum on time.
        #expect(m.step(.init(surplusW: 2100), config: Self.boiler, now: Self.t0 + 2) == .surplus)
        #expect(m.on)
        #expect(m.step(.init(surplusW: 1900), config: Self.boiler, now: Self.t0 + 3) == .minOn)
        #expect(m.on)
        #expect(m.step(.init(surplusW: 1900), config: Self.boiler, now: Self.t0 + 601) == .noSurplus)
        #expect(!m.on)
        // And back on only after its minimum off time.
        #expect(m.step(.init(surplusW: 3000), config: Self.boiler, now: Self.t0 + 700) == .minOff)
        #expect(!m.on)
        #expect(m.step(.init(surplusW: 3000), config: Self.boiler, now: Self.t0 + 901) == .surplus)
        #expect(m.on)
    }

    @Test func aTimerForcesItOnBesideTheAutomaticLogic() {
        var m = SurplusRelayMachine(on: false, since: Self.t0 - 1000)
        #expect(m.step(.init(surplusW: -500, forcedOn: true), config: Self.boiler, now: Self.t0) == .timer)
        #expect(m.on)
        // The window ends while there is surplus: the automatic logic keeps it on.
        #expect(m.step(.init(surplusW: 2500), config: Self.boiler, now: Self.t0 + 700) == .surplus)
        #expect(m.on)
    }

    @Test func sheddingWinsOverTimersAndALimitOverTheMinimumOnTime() {
        var m = SurplusRelayMachine(on: false, since: Self.t0 - 1000)
        #expect(m.step(.init(surplusW: 5000, forcedOn: true, shed: true), config: Self.boiler, now: Self.t0) == .shed)
        #expect(!m.on)
        m.step(.init(surplusW: 5000), config: Self.boiler, now: Self.t0 + 1)
        #expect(m.on)
        #expect(m.step(.init(surplusW: 5000, urgentOff: true), config: Self.boiler, now: Self.t0 + 2) == .limitExceeded)
        #expect(!m.on)
        #expect(m.step(.init(surplusW: 5000, noRoom: true), config: Self.boiler, now: Self.t0 + 1000) == .noRoom)
        #expect(!m.on)
    }

    @Test func aRelayThatIsNotAutomaticOnlyFollowsTimers() {
        var config = Self.boiler
        config.automatic = false
        var m = SurplusRelayMachine(on: false, since: Self.t0 - 1000)
        #expect(m.step(.init(surplusW: 9000), config: config, now: Self.t0) == .manualOnly)
        #expect(!m.on)
    }
}

/// Timer windows in local time: across midnight, weekdays, and the two DST nights.
@Suite struct TimerWindowTests {
    static let brussels: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "Europe/Brussels")!
        return c
    }()

    static func local(_ text: String) -> Date {
        let f = ISO8601DateFormatter()
        return f.date(from: text)!
    }

    @Test func aMiddayWindow() {
        let w = TimerWindow(from: 12 * 60, to: 14 * 60)
        #expect(!w.contains(Self.local("2026-06-10T11:59:59+02:00"), calendar: Self.brussels))
        #expect(w.contains(Self.local("2026-06-10T12:00:00+02:00"), calendar: Self.brussels))
        #expect(w.contains(Self.local("2026-06-10T13:59:59+02:00"), calendar: Self.brussels))
        #expect(!w.contains(Self.local("2026-06-10T14:00:00+02:00"), calendar: Self.brussels))
        // 12:30 UTC is 14:30 in Brussels in summer: out.
        #expect(!w.contains(Self.local("2026-06-10T12:30:00Z"), calendar: Self.brussels))
    }

    @Test func acrossMidnightTheMorningBelongsToTheDayBefore() {
        // Friday 22:00 → Saturday 06:00, on Fridays only (2026-06-12 is a Friday).
        let w = TimerWindow(from: 22 * 60, to: 6 * 60, days: [5])
        #expect(w.contains(Self.local("2026-06-12T23:00:00+02:00"), calendar: Self.brussels))
        #expect(w.contains(Self.local("2026-06-13T05:59:00+02:00"), calendar: Self.brussels))
        #expect(!w.contains(Self.local("2026-06-13T23:00:00+02:00"), calendar: Self.brussels), "Saturday evening")
        #expect(!w.contains(Self.local("2026-06-12T05:00:00+02:00"), calendar: Self.brussels), "Friday morning is Thursday's")
    }

    @Test func theNightsClocksChange() {
        // 02:00–03:00 local: skipped on 2026-03-29 (02:00 CET → 03:00 CEST), twice on 2026-10-25.
        let w = TimerWindow(from: 2 * 60, to: 3 * 60)
        var inSpring = 0
        var inAutumn = 0
        let spring = Self.local("2026-03-29T00:00:00+01:00")
        let autumn = Self.local("2026-10-25T00:00:00+02:00")
        for minute in 0..<(6 * 60) {
            if w.contains(spring + Double(minute * 60), calendar: Self.brussels) { inSpring += 1 }
            if w.contains(autumn + Double(minute * 60), calendar: Self.brussels) { inAutumn += 1 }
        }
        #expect(inSpring == 0)
        #expect(inAutumn == 120)
        // A window around the change lasts its wall-clock span minus or plus the hour.
        let night = TimerWindow(from: 1 * 60, to: 4 * 60)
        var springMinutes = 0
        for minute in 0..<(6 * 60) where night.contains(spring + Double(minute * 60), calendar: Self.brussels) {
            springMinutes += 1
        }
        #expect(springMinutes == 120)
    }

    @Test func clockTextIsStrict() {
        #expect(TimerWindow.parseClock("07:30") == 450)
        #expect(TimerWindow.parseClock("24:00") == 1440)
        #expect(TimerWindow.parseClock("24:01") == nil)
        #expect(TimerWindow.parseClock("7:5") == nil)
        #expect(TimerWindow.parseClock("noon") == nil)
    }
}
