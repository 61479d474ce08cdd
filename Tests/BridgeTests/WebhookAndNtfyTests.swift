import BridgeAlerts
import BridgeDelivery
import Crypto
import Foundation
import Logging
import PhasorCore
import PhasorTesting
import Testing

/// Webhook and ntfy delivery to a real HTTP server on loopback.
@Suite(.serialized) struct WebhookAndNtfyTests {
    let logger = Logger(label: "test")

    @Test func theWebhookCarriesAlertmanagerV4JSONSignedWithHMAC() async throws {
        let folder = try temporaryFolder()
        let sink = HTTPSink(folder: folder)
        try await sink.start()
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_800_000_100))
        let n = sampleNotification()
        let channel = WebhookChannel(name: "webhook:ops", url: "http://127.0.0.1:\(sink.port)/hooks/phasor",
                                     secret: Array("s3cret".utf8), clock: clock)
        try await channel.deliver(n)
        await sink.stop()

        let request = try #require(sink.requests.first)
        #expect(sink.requests.count == 1)
        #expect(request.path == "/hooks/phasor")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["x-phasor-delivery"] == n.id)
        // The HMAC, computed here from the received bytes.
        let mac = HMAC<SHA256>.authenticationCode(for: Array("1800000100.".utf8) + request.body, using: SymmetricKey(data: Array("s3cret".utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        #expect(request.headers["x-phasor-signature"] == "t=1800000100,sha256=\(hex)")

        let body = try #require(request.json)
        #expect(body["version"] as? String == "4")
        #expect(body["status"] as? String == "firing")
        #expect(body["receiver"] as? String == "webhook:ops")
        #expect(body["groupKey"] as? String == #"{}:{alertname="communication_lost"}"#)
        #expect(body["groupLabels"] as? [String: String] == ["alertname": "communication_lost"])
        #expect((body["commonLabels"] as? [String: String])?["severity"] == "critical")
        let alerts = try #require(body["alerts"] as? [[String: Any]])
        #expect(alerts.count == 2)
        #expect(alerts[0]["status"] as? String == "firing")
        #expect((alerts[0]["labels"] as? [String: String])?["device"] == "cp1")
        #expect(alerts[0]["startsAt"] as? String == "2027-01-15T08:00:00Z")
        #expect(alerts[0]["endsAt"] as? String == "0001-01-01T00:00:00Z")
        #expect(alerts[0]["fingerprint"] as? String == n.alerts[0].fingerprint)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func aReceiverAnsweringAnErrorIsAFailure() async throws {
        let folder = try temporaryFolder()
        let sink = HTTPSink(folder: folder)
        try await sink.start(status: 503)
        let channel = WebhookChannel(name: "webhook:0", url: "http://127.0.0.1:\(sink.port)/", secret: nil)
        await #expect(throws: DeliveryFailure.self) { try await channel.deliver(sampleNotification()) }
        await sink.stop()
        #expect(sink.requests.first?.headers["x-phasor-signature"] == nil, "no secret, no signature")
        try? FileManager.default.removeItem(at: folder)
    }

    /// The network is down when the alert is raised; it arrives once after it returns.
    @Test func aWebhookThatIsDownIsRetriedAndGetsTheAlertOnceWhenBack() async throws {
        let folder = try temporaryFolder()
        let sink = HTTPSink(folder: folder)
        let clock = ManualWallClock()
        let channel = WebhookChannel(name: "webhook:ops", url: "http://127.0.0.1:\(sink.port)/hook", secret: Array("k".utf8),
                                     timeout: 5, clock: clock)
        let queue = InProcessAlertQueue(channels: [channel], clock: clock, logger: logger)
        let delivery = AlertDelivery(channel: "webhook:ops", notification: sampleNotification())
        try await queue.enqueue(delivery)
        try await queue.enqueue(delivery)  // the same notification again: kept once
        #expect(await queue.waiting == 1)

        var outcomes = await queue.deliverDue(at: clock.now())
        #expect(outcomes.map(\.delivered) == [false])
        clock.advance(by: 0.5)
        #expect(await queue.deliverDue(at: clock.now()).isEmpty, "the next attempt is 1 s later")
        clock.advance(by: 0.5)
        #expect(await queue.deliverDue(at: clock.now()).map(\.delivered) == [false])
        clock.advance(by: 1.9)
        #expect(await queue.deliverDue(at: clock.now()).isEmpty, "then 2 s later")

        try await sink.start()
        clock.advance(by: 0.1)
        outcomes = await queue.deliverDue(at: clock.now())
        #expect(outcomes.map(\.delivered) == [true])
        clock.advance(by: 3600)
        #expect(await queue.deliverDue(at: clock.now()).isEmpty)
        try await queue.enqueue(delivery)  // a late duplicate from the dispatcher is not sent again
        #expect(await queue.deliverDue(at: clock.now()).isEmpty)
        await sink.stop()
        #expect(sink.requests.count == 1)
        #expect(sink.requests.first?.headers["x-phasor-delivery"] == delivery.notification.id)
        try? FileManager.default.removeItem(at: folder)
    }

    /// The bridge restarts during the outage: the queue's file brings the delivery back.
    @Test func whatWaitsSurvivesARestartWithAQueueFile() async throws {
        let folder = try temporaryFolder()
        let sink = HTTPSink(folder: folder)
        let clock = ManualWallClock()
        let file = folder.appendingPathComponent("alert-queue.json").path
        let channel = WebhookChannel(name: "webhook:ops", url: "http://127.0.0.1:\(sink.port)/hook", secret: nil, timeout: 5)
        let delivery = AlertDelivery(channel: "webhook:ops", notification: sampleNotification())
        do {
            let before = InProcessAlertQueue(channels: [channel], clock: clock, logger: logger, file: file)
            try await before.enqueue(delivery)
            #expect(await before.deliverDue(at: clock.now()).map(\.delivered) == [false])
        }
        try await sink.start()
        let after = InProcessAlertQueue(channels: [channel], clock: clock, logger: logger, file: file)
        #expect(await after.waiting == 1)
        try await after.enqueue(delivery)  // the dispatcher's copy after the restart is not a second one
        #expect(await after.deliverDue(at: clock.now()).map(\.delivered) == [true])
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "[]")
        let again = InProcessAlertQueue(channels: [channel], clock: clock, logger: logger, file: file)
        #expect(await again.waiting == 0)
        await sink.stop()
        #expect(sink.requests.count == 1)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func theQueueLimitsSendsPerMinuteAndChannel() async throws {
        let folder = try temporaryFolder()
        let sink = HTTPSink(folder: folder)
        try await sink.start()
        let clock = ManualWallClock()
        let channel = WebhookChannel(name: "webhook:ops", url: "http://127.0.0.1:\(sink.port)/hook", secret: nil)
        let queue = InProcessAlertQueue(channels: [channel], clock: clock, logger: logger, perMinute: 2)
        for i in 0..<3 {
            var n = sampleNotification()
            n.id += "-\(i)"
            try await queue.enqueue(AlertDelivery(channel: "webhook:ops", notification: n))
        }
        #expect(await queue.deliverDue(at: clock.now()).filter(\.delivered).count == 2)
        clock.advance(by: 59)
        #expect(await queue.deliverDue(at: clock.now()).isEmpty)
        clock.advance(by: 1)
        #expect(await queue.deliverDue(at: clock.now()).filter(\.delivered).count == 1)
        await sink.stop()
        #expect(sink.requests.count == 3)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func ntfyGetsTitlePriorityTagsAndTheTextInTheSitesLanguage() async throws {
        let folder = try temporaryFolder()
        let sink = HTTPSink(folder: folder)
        try await sink.start()
        let channel = NtfyChannel(name: "ntfy:phone", url: "http://127.0.0.1:\(sink.port)/home-alerts", token: "tk_123",
                                  site: "home", texts: AlertTexts(.fr))
        try await channel.deliver(sampleNotification())
        await sink.stop()
        let request = try #require(sink.requests.first)
        #expect(request.path == "/home-alerts")
        #expect(request.headers["priority"] == "5")
        #expect(request.headers["tags"] == "rotating_light")
        #expect(request.headers["authorization"] == "Bearer tk_123")
        #expect(request.headers["title"] == "[ALERTE:2] communication_lost (site home)")
        #expect(request.text == """
            [critique] communication perdue avec cp1 (depuis 2027-01-15T08:00:00Z)
            [critique] communication perdue avec cp2 (depuis 2027-01-15T08:00:00Z)
            """)
        try? FileManager.default.removeItem(at: folder)
    }
}
