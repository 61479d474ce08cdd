import Foundation
import Gateway
import MQTT
import MeterIO
import Modbus
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// The TIC line state on MQTT, and file replay as a source.
@Suite(.serialized, .endToEnd) struct TICStatusAndReplayTests {
    @Test func ticStatusGoesFromAbsentToOkToInterruptedOnTheInjectedClock() async throws {
        let dongle = try makeDongle()
        let h = try await MeterHarness(MeterConfiguration(id: "tic1", type: .tic, source: "tcp://127.0.0.1:\(dongle.port)"))
        let status = h.topics.meterTICStatus("tic1")
        #expect(await h.inbox.next(on: status)?.string == "absent", "nothing on the line yet")
        #expect(await waitForClients(dongle))
        dongle.broadcast(try Fixtures.bytes("tic-historique-mono-base-teleinfo2mqtt.txt"))
        #expect(await h.inbox.next(on: status, where: { $0.string == "ok" }) != nil)
        #expect(await h.state()?.number("apparent_power") == 390)
        // The meter falls silent: after 5 s without a byte the line is interrupted.
        h.clock.advance(by: 5)
        #expect(await h.inbox.next(on: status, where: { $0.string == "interrupted" }) != nil)
        #expect(try await retainedMessage(status)?.string == "interrupted")
        dongle.stop()
        await h.stop()
    }

    @Test func ticGroupWithBadChecksumIsCountedAndTheRestPublished() async throws {
        let dongle = try makeDongle()
        let h = try await MeterHarness(MeterConfiguration(id: "tic1", type: .tic, source: "tcp://127.0.0.1:\(dongle.port)"))
        #expect(await waitForClients(dongle))
        // PAPP's checksum character changed: that group is dropped, the others published.
        var frame = String(decoding: try Fixtures.bytes("tic-historique-mono-base-teleinfo2mqtt.txt"), as: UTF8.self)
        frame = frame.replacingOccurrences(of: "PAPP 00390 -", with: "PAPP 00390 +")
        dongle.broadcast(Array(frame.utf8))
        let state = try #require(await h.state())
        #expect(state[Quantity("apparent_power")] == nil)
        #expect(state.number("current_l1") == 2)
        let stats = await h.statistics { ($0["bad_checksum"] as? Int) == 1 }
        #expect(stats?["telegrams_ok"] as? Int == 1)
        dongle.stop()
        await h.stop()
    }

    @Test func fileReplayPlaysTheCaptureAndReopensItAtTheEnd() async throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("dsmr50-iskra-am550-real-basjes.txt")
        let h = try await MeterHarness(MeterConfiguration(id: "p1", type: .p1, source: "file://\(url.path)", replayBytesPerSecond: 20_000))
        #expect(await h.state()?.number("power_import") == 433)
        // Replayed again after the back-off (0.5 s): a second telegram, a second open.
        let stateTopic = h.topics.meterState("p1")
        #expect(await h.inbox.next(on: stateTopic, after: 1) != nil, "a second state")
        let stats = await h.statistics { ($0["telegrams_ok"] as? Int ?? 0) >= 2 }
        #expect((stats?["source_opens"] as? Int ?? 0) >= 2)
        await h.stop()
    }
}

/// TIC `auto` mode on a serial line: bytes but no frame at 1200 Bd → 9600 Bd.
@Suite(.serialized, .endToEnd) struct TICAutoBaudTests {
    @Test func autoModeSwitchesToTheStandardBaudRateWhenTheLineCarriesNoFrame() async throws {
        try await withPTYPair { pty in
            let h = try await MeterHarness(MeterConfiguration(id: "tic1", type: .tic, source: pty.second))
            #expect(h.service.settings.serialAlternatives.map(\.baudRate) == [1200, 9600])
            try await h.waitUntilSourceOpen()
            let line = try SerialLineWriter(path: pty.first)
            // What a 9600 Bd frame looks like read at 1200 Bd: bytes, never an STX…ETX frame.
            let noise = [UInt8](repeating: 0x7F, count: 32)
            // Noise, then 4 s of meter time, until the gateway gives up on 1200 Bd. Repeated
            // rather than counted: on a loaded machine the reader may see a write only after
            // the clock moved, and the 10 s must pass between bytes it has seen.
            var notActivated: MQTTMessage?
            let deadline = ContinuousClock.now + .seconds(20)
            while notActivated == nil, ContinuousClock.now < deadline {
                try line.write(noise)
                try await Task.sleep(for: .milliseconds(100))
                h.clock.advance(by: 4)
                notActivated = await h.inbox.next(
                    on: h.topics.meterTICStatus("tic1"), timeout: .milliseconds(200), where: { $0.string == "not_activated" })
            }
            #expect(notActivated != nil)
            let reopened = await h.statistics { ($0["source_opens"] as? Int) == 2 && ($0["source_connected"] as? Bool) == true }
            #expect((reopened?["source"] as? String)?.hasSuffix("9600 7E1") == true, "\(reopened?["source"] ?? "-")")
            try await h.waitUntilSourceOpen()
            try line.write(try Fixtures.bytes("tic-standard-mono-base-linky-ticdecodecpp.txt"))
            #expect(await h.state() != nil)
            #expect(await h.inbox.next(on: h.topics.meterTICStatus("tic1"), where: { $0.string == "ok" }) != nil)
            await h.stop()
        }
    }
}
