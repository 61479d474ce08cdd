import DeviceSimulators
import Foundation
import Gateway
import MeterIO
import Modbus
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// Telegrams written into one end of a socat pty pair, read by the gateway's
/// serial source (termios at the meter's real line settings) on the other end,
/// published through a real mosquitto and checked at a subscriber.
@Suite(.serialized, .endToEnd) struct SerialEndToEndTests {
    @Test func belgianP1TelegramAt115200ArrivesAsStateAndPerQuantityTopics() async throws {
        try await withPTYPair { pty in
            let meter = MeterConfiguration(id: "p1", type: .p1, source: pty.second)
            let h = try await MeterHarness(meter)
            #expect(h.service.settings.serial == .p1DSMR4and5)
            try await h.waitUntilSourceOpen()
            let line = try SerialLineWriter(path: pty.first)
            // Garbage and a partial telegram first, as after plugging the cable in mid-telegram.
            let telegram = try Fixtures.bytes("dsmr5-belgium-fluvius-v171-dsmrparser.txt")
            try line.write(Array("0(000.00*A)\r\n!12".utf8) + Array(telegram[0..<300]))
            try line.write(telegram)

            let state = try #require(await h.state())
            #expect(state.number("energy_import_t1") == 0.034)
            #expect(state.number("energy_import_t2") == 15.758)
            #expect(state.number("voltage_l1") == 234.7)
            #expect(state.number("power_import_quarter_hour_average") == 2351)
            #expect(state.number("gas_volume") == 112.384)
            let perQuantity = await h.inbox.next(on: h.topics.meterQuantity("p1", Quantity("energy_import_t2")))
            #expect(perQuantity?.string == "15.758")
            let retained = try await retainedMessage(h.topics.meterQuantity("p1", Quantity("energy_import_t2")))
            #expect(retained?.retain == true && retained?.string == "15.758", "a later subscriber gets the value")
            let raw = await h.inbox.next(on: h.topics.meterRaw("p1"))
            #expect(raw?.payload == telegram, "raw topic carries the telegram byte for byte")
            #expect(raw?.retain == false)
            #expect(await h.inbox.next(on: h.topics.deviceAvailability("p1"))?.string == "online")
            await h.stop()
        }
    }

    @Test func ticHistoriqueAt1200SevenE1ArrivesWithParityBitsInBit7() async throws {
        try await withPTYPair { pty in
            let h = try await MeterHarness(MeterConfiguration(id: "tic1", type: .tic, source: pty.second, ticMode: .historique))
            #expect(h.service.settings.serial == .ticHistorique)
            try await h.waitUntilSourceOpen()
            let line = try SerialLineWriter(path: pty.first)
            // A pty passes bit 7 through: send what an 8N1 port sees from a 7E1 line.
            let frame = try Fixtures.bytes("tic-historique-mono-base-teleinfo2mqtt.txt")
            try line.write(frame.map(withEvenParityInBit7))
            try line.write(frame.map(withEvenParityInBit7))

            let state = try #require(await h.state())
            #expect(state.number("apparent_power") == 390)
            #expect(state.number("current_l1") == 2)
            #expect(state[Quantity("energy_import")] != nil)
            #expect(await h.inbox.next(on: h.topics.meterTICStatus("tic1"), where: { $0.string == "ok" }) != nil)
            await h.stop()
        }
    }

    @Test func ticStandardAt9600ArrivesAsState() async throws {
        try await withPTYPair { pty in
            let h = try await MeterHarness(MeterConfiguration(id: "tic2", type: .tic, source: pty.second, ticMode: .standard))
            #expect(h.service.settings.serial == .ticStandard)
            try await h.waitUntilSourceOpen()
            let line = try SerialLineWriter(path: pty.first)
            try line.write(try Fixtures.bytes("tic-standard-mono-base-linky-ticdecodecpp.txt"))
            let state = try #require(await h.state())
            #expect(state.number("voltage_l1") != nil)
            #expect(state.count > 10)
            await h.stop()
        }
    }

    private func withEvenParityInBit7(_ byte: UInt8) -> UInt8 {
        byte.nonzeroBitCount % 2 == 1 ? byte | 0x80 : byte
    }
}

/// The serial device disappears mid-telegram (USB adapter pulled) and comes back.
@Suite(.serialized, .endToEnd) struct SerialReconnectTests {
    @Test func sourceReopensTheDeviceWhenItComesBackAndDropsTheCutTelegram() async throws {
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-meter-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: link) }
        let first = try await SocatPTYPair.start()
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: first.second)
        let h = try await MeterHarness(MeterConfiguration(id: "p1", type: .p1, source: link))
        try await h.waitUntilSourceOpen()
        let telegram = try Fixtures.bytes("dsmr50-iskra-am550-real-basjes.txt")
        try SerialLineWriter(path: first.first).write(Array(telegram[0..<400]))
        try await Task.sleep(for: .milliseconds(100))
        await first.stop()
        #expect(await eventually { !h.service.sourceIsOpen }, "the source noticed the device went away")

        try await withPTYPair { second in
            try FileManager.default.removeItem(atPath: link)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: second.second)
            try await h.waitUntilSourceOpen()
            try SerialLineWriter(path: second.first).write(telegram)
            #expect(await h.state()?.number("power_import") == 433)
            let stats = await h.statistics { ($0["telegrams_ok"] as? Int) == 1 }
            #expect(stats?["other_errors"] as? Int == 1, "the telegram cut by the unplug, never published")
            #expect((stats?["source_opens"] as? Int ?? 0) == 2)
            await h.stop()
        }
    }
}
