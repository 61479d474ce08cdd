import Foundation
import Gateway
import MeterIO
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// A P1 network dongle on loopback (a TCP server streaming telegrams), the
/// gateway's TCP source connecting to it, a real mosquitto in between.
@Suite(.serialized, .endToEnd) struct TCPEndToEndTests {
    @Test func p1OverTCPPublishesAndReconnectsAfterTheDongleRestarts() async throws {
        let first = try makeDongle()
        let port = first.port
        let h = try await MeterHarness(MeterConfiguration(id: "p1", type: .p1, source: "tcp://127.0.0.1:\(port)"))
        #expect(await waitForClients(first))
        let telegram = try Fixtures.bytes("dsmr50-iskra-am550-real-basjes.txt")
        first.broadcast(telegram)
        let state = try #require(await h.state())
        #expect(state.number("power_import") == 433)
        #expect(state.number("energy_import_t1") == 3432.829)

        // The dongle goes away mid-telegram and comes back: the source reconnects by itself.
        first.broadcast(Array(telegram[0..<200]))
        try await Task.sleep(for: .milliseconds(50))
        first.stop()
        let second = try makeDongle(port: port)
        #expect(await waitForClients(second), "reconnected")
        second.broadcast(P1TelegramEditing.replacing("1-0:1.7.0(00.433*kW)", with: "1-0:1.7.0(01.234*kW)", in: telegram))
        #expect(await h.state(where: { $0.number("power_import") == 1234 }) != nil)
        let stats = await h.statistics { ($0["source_opens"] as? Int ?? 0) >= 2 }
        #expect(stats?["telegrams_ok"] as? Int == 2)
        #expect(stats?["other_errors"] as? Int == 1, "the telegram cut by the disconnect")
        second.stop()
        await h.stop()
    }

    @Test func badCRCTelegramIsCountedAndNeverPublished() async throws {
        let server = try makeDongle()
        let h = try await MeterHarness(MeterConfiguration(id: "p1", type: .p1, source: "tcp://127.0.0.1:\(server.port)"))
        #expect(await waitForClients(server))
        let bad = P1TelegramEditing.replacing("1-0:1.7.0(00.433*kW)", with: "1-0:1.7.0(09.999*kW)", in: try Fixtures.bytes("dsmr50-iskra-am550-real-basjes.txt"))
        // Same text with a 9.999 kW value but the original's CRC: a transmission error.
        let corrupted = Array(String(decoding: bad, as: UTF8.self).replacingOccurrences(
            of: String(decoding: bad.suffix(6), as: UTF8.self), with: "9DF0\r\n").utf8)
        server.broadcast(corrupted)
        server.broadcast(try Fixtures.bytes("dsmr50-bad-crc.txt"))
        server.broadcast(try Fixtures.bytes("dsmr50-iskra-am550-real-basjes.txt"))
        let state = try #require(await h.state())
        #expect(state.number("power_import") == 433)
        let stats = try #require(await h.statistics { ($0["bad_crc"] as? Int) == 2 })
        #expect(stats["telegrams_ok"] as? Int == 1)
        #expect(h.inbox.on(h.topics.meterState("p1")).count == 1, "only the good telegram became a state")
        #expect(h.inbox.on(h.topics.meterRaw("p1")).count == 1)
        #expect(h.inbox.on(h.topics.meterQuantity("p1", .power)).allSatisfy { $0.string != "9999" })
        server.stop()
        await h.stop()
    }

    /// A P1 meter on a TCP dongle that has sent one DSMR 5 telegram and is online.
    func onlineDSMR5Meter() async throws -> (FanOutServer, MeterHarness, String) {
        let server = try makeDongle()
        let h = try await MeterHarness(MeterConfiguration(id: "p1", type: .p1, source: "tcp://127.0.0.1:\(server.port)"))
        let availability = h.topics.deviceAvailability("p1")
        #expect(await waitForClients(server))
        server.broadcast(try Fixtures.bytes("dsmr50-iskra-am550-real-basjes.txt"))
        #expect(await h.inbox.next(on: availability)?.string == "online")
        return (server, h, availability)
    }

    @Test func meterLostAfterThreePeriodsOfItsVariantAndBackWithTheNextTelegram() async throws {
        // DSMR 5: one telegram a second, so lost after 3 s on the injected clock.
        let (server, h, availability) = try await onlineDSMR5Meter()
        h.clock.advance(by: 2.9)
        try await Task.sleep(for: .milliseconds(150))
        #expect(h.inbox.on(availability).last?.string == "online", "not lost before 3 periods")
        h.clock.advance(by: 0.2)
        #expect(await h.inbox.next(on: availability, where: { $0.string == "offline" }) != nil)
        #expect(try await retainedMessage(availability)?.string == "offline")

        // A DSMR 2.2 meter sends every 10 s: back online, and lost only after 30 s.
        h.inbox.clear()
        server.broadcast(try Fixtures.bytes("dsmr22-iskra-mt382-real-basjes.txt"))
        #expect(await h.inbox.next(on: availability)?.string == "online")
        h.clock.advance(by: 29)
        try await Task.sleep(for: .milliseconds(150))
        #expect(h.inbox.on(availability).map(\.string) == ["online"])
        h.clock.advance(by: 1.5)
        #expect(await h.inbox.next(on: availability, where: { $0.string == "offline" }) != nil)
        let stats = await h.statistics { _ in true }
        #expect(stats?["available"] as? Bool == false)
        #expect((stats?["last_telegram_age_s"] as? Double ?? 0) >= 30)
        server.stop()
        await h.stop()
    }

    /// The chaos soak stepped the gateway's wall clock forward and back: the last
    /// telegram then lay in the future and a pulled line was not reported for minutes.
    @Test func meterLostAfterThreePeriodsAlsoWhenTheClockWentBack() async throws {
        let (server, h, availability) = try await onlineDSMR5Meter()
        h.clock.advance(by: -600)
        try await Task.sleep(for: .milliseconds(150))
        h.clock.advance(by: 3.1)
        #expect(await h.inbox.next(on: availability, where: { $0.string == "offline" }) != nil)
        server.stop()
        await h.stop()
    }

    @Test func perQuantityTopicsFollowDeadbandAndMaximumIntervalWhileStateGetsEveryTelegram() async throws {
        let server = try makeDongle()
        let config = MeterConfiguration(
            id: "p1", type: .p1, source: "tcp://127.0.0.1:\(server.port)",
            publish: PublishPolicyConfiguration(minInterval: 0, maxInterval: 60, deadband: ["power_import": 100]))
        let h = try await MeterHarness(config)
        #expect(await waitForClients(server))
        let base = try Fixtures.bytes("dsmr50-iskra-am550-real-basjes.txt")
        let powerTopic = h.topics.meterQuantity("p1", Quantity("power_import"))
        let energyTopic = h.topics.meterQuantity("p1", Quantity("energy_import_t1"))
        for (kW, w) in [("00.433", 433), ("00.480", 480), ("00.560", 560), ("00.600", 600)] {
            server.broadcast(P1TelegramEditing.replacing("1-0:1.7.0(00.433*kW)", with: "1-0:1.7.0(\(kW)*kW)", in: base))
            #expect(await h.state(where: { $0.number("power_import") == Double(w) }) != nil)
            h.clock.advance(by: 1)
        }
        // 433 first; 480 within 100 W of it; 560 moved 127 W; 600 within 100 W of 560.
        #expect(h.inbox.on(powerTopic).map(\.string) == ["433", "560"])
        // An unchanged counter is not republished until the maximum interval passed.
        #expect(h.inbox.on(energyTopic).count == 1)
        h.clock.advance(by: 60)
        server.broadcast(P1TelegramEditing.replacing("1-0:1.7.0(00.433*kW)", with: "1-0:1.7.0(00.600*kW)", in: base))
        #expect(await h.inbox.next(on: energyTopic, where: { _ in h.inbox.on(energyTopic).count == 2 }) != nil)
        #expect(h.inbox.on(h.topics.meterState("p1")).count == 5, "the JSON state carries every telegram")
        server.stop()
        await h.stop()
    }
}
