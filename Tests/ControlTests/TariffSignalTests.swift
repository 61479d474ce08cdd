import Foundation
import PhasorCore
import TIC
import Testing

@testable import Control

/// French tariff signals from real TIC frames (Tests/TICTests/Fixtures, copied from
/// ../shared/testdata/tic) through the gateway's parser into the rules.
@Suite struct TariffSignalTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../TICTests/Fixtures").standardizedFileURL
    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    static func frame(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    /// A historique frame with one group's data replaced and its checksum recomputed
    /// (mode 1: label SP data, sum & 0x3F + 0x20), as the meter would send it.
    static func historique(_ bytes: [UInt8], set label: String, to data: String) -> [UInt8] {
        // Work on bytes: "\r\n" is one Character in a Swift String.
        var out = bytes
        let prefix = Array("\n\(label) ".utf8)
        guard let start = out.indices.first(where: { out[$0...].starts(with: prefix) }),
            let end = out[start...].firstIndex(of: 0x0D)
        else { return bytes }
        let body = Array("\(label) \(data)".utf8)
        let sum = body.reduce(0) { $0 + Int($1) }
        out.replaceSubrange((start + 1)..<end, with: body + [0x20, UInt8((sum & 0x3F) + 0x20)])
        return out
    }

    static func signals(_ bytes: [UInt8]) throws -> TariffSignals? {
        let frame = try TICParser.parse(bytes, device: "linky", receivedAt: now)
        return TariffSignals(reading: frame.reading)
    }

    @Test func aTempoBlueOffPeakFrameAnnouncingARedTomorrow() throws {
        let s = try #require(try Self.signals(Self.frame("tic-historique-mono-tempo-linky-pyteleinfo.txt")))
        #expect(s.tempoToday == .blue)
        #expect(s.tempoTomorrow == .red)
        #expect(s.period == .offPeak)
        let rules = [
            TariffRule(when: .tomorrowRed, relaysOn: ["boiler"]),
            TariffRule(when: .tempoRedPeak, heatPump: .off, relaysOff: ["all"], cars: .solar),
        ]
        let out = TariffSignalRules.evaluate(rules, signals: s, now: Self.now)
        #expect(out.active == [.tomorrowRed])
        #expect(out.forcesOn("boiler"))
        #expect(out.heatPumpCap == nil && out.cars == nil)
    }

    @Test func aRedPeakFrameShedsTheHeatPumpTheRelaysAndLimitsCars() throws {
        let red = Self.historique(try Self.frame("tic-historique-mono-tempo-linky-pyteleinfo.txt"), set: "PTEC", to: "HPJR")
        let s = try #require(try Self.signals(red))
        #expect(s.tempoToday == .red)
        #expect(s.period == .peak)
        let rules = [
            TariffRule(when: .tempoRedPeak, heatPump: .off, relaysOff: ["all"], cars: .solar),
            TariffRule(when: .tempoRed, heatPump: .normal, cars: .off),
            TariffRule(when: .offPeak, relaysOn: ["boiler"]),
        ]
        let out = TariffSignalRules.evaluate(rules, signals: s, now: Self.now)
        #expect(out.active == [.tempoRedPeak, .tempoRed])
        #expect(out.heatPumpCap == .off, "the lowest cap wins")
        #expect(out.cars == .off, "the strictest car limit wins")
        #expect(out.sheds("boiler") && !out.forcesOn("boiler"))
    }

    @Test func aStandardTempoFrameReadsLTARFAndTheStatusRegister() throws {
        let s = try #require(try Self.signals(Self.frame("tic-standard-tri-tempo-producer-linky-openhab.txt")))
        #expect(s.period == .peak)  // LTARF "HP  BLEU"
        #expect(s.tempoToday == .blue)  // STGE bits 24–25
    }

    @Test func aBaseContractCarriesNoTempoAndNoRuleApplies() throws {
        let s = try Self.signals(Self.frame("tic-historique-tri-base-linky-ticdecodecpp.txt"))
        #expect(s?.tempoToday == nil)
        #expect(s?.period == .base)
        let out = TariffSignalRules.evaluate([TariffRule(when: .peak, heatPump: .off)], signals: s, now: Self.now)
        #expect(out.active.isEmpty)
    }

    @Test func staleOrMissingSignalsShedNothing() throws {
        let red = Self.historique(try Self.frame("tic-historique-mono-tempo-linky-pyteleinfo.txt"), set: "PTEC", to: "HPJR")
        let s = try Self.signals(red)
        let rules = [TariffRule(when: .tempoRedPeak, heatPump: .off)]
        #expect(TariffSignalRules.evaluate(rules, signals: s, now: Self.now + 121).heatPumpCap == nil)
        #expect(TariffSignalRules.evaluate(rules, signals: nil, now: Self.now).heatPumpCap == nil)
    }

    @Test func anEJPPeakAndItsNotice() throws {
        var ejp = Self.historique(try Self.frame("tic-historique-mono-tempo-linky-pyteleinfo.txt"), set: "PTEC", to: "PM..")
        ejp = Self.historique(ejp, set: "OPTARIF", to: "EJP.")
        let s = try #require(try Self.signals(ejp))
        let out = TariffSignalRules.evaluate(
            [TariffRule(when: .ejpPeak, heatPump: .off), TariffRule(when: .mobilePeak, cars: .solar)], signals: s,
            now: Self.now)
        #expect(out.heatPumpCap == .off)
        #expect(out.cars == .solar)
    }

    @Test func aMobilePeakWindowAppliesBetweenItsStartAndEnd() {
        let peak = DateInterval(start: Self.now + 3600, end: Self.now + 3 * 3600)
        let s = TariffSignals(time: Self.now, mobilePeak: peak)
        #expect(!s.holds(.mobilePeak, at: Self.now))
        #expect(s.holds(.mobilePeak, at: Self.now + 3600))
        #expect(!s.holds(.mobilePeak, at: Self.now + 3 * 3600))
    }
}
