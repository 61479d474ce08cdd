import Foundation
import Gateway
import MeterIO
import PhasorCore
import Testing
import TestTraits

/// Luxembourg Smarty: AES-128-GCM frames decrypted with the configured key.
@Suite(.serialized, .endToEnd) struct SmartyTests {
    @Test func encryptedFramesArePublishedWithTheRightKeyAndCountedWithAWrongOne() async throws {
        let frame = try Fixtures.bytes("smarty-format-sagemcom-t210dr-esphome.bin")
        for (key, decrypts) in [("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true), ("0123456789abcdef0123456789abcdef", false)] {
            let dongle = try makeDongle()
            let h = try await MeterHarness(MeterConfiguration(id: "lux", type: .p1, source: "tcp://127.0.0.1:\(dongle.port)", smartyKey: key))
            #expect(await waitForClients(dongle))
            // Split across two writes, with a stray byte in front: the frame splitter resynchronises.
            dongle.broadcast([0x00] + Array(frame[0..<100]))
            dongle.broadcast(Array(frame[100...]))
            if decrypts {
                let state = try #require(await h.state())
                #expect(state[.energyImport]?.number == 6545.766)
                #expect(await h.inbox.next(on: h.topics.meterRaw("lux"))?.payload == frame, "raw carries the frame as received")
            } else {
                let stats = await h.statistics { ($0["other_errors"] as? Int) == 1 }
                #expect(stats?["telegrams_ok"] as? Int == 0)
                #expect(h.inbox.on(h.topics.meterState("lux")).isEmpty)
            }
            dongle.stop()
            await h.stop()
        }
    }
}
