import Foundation
import PhasorTesting
import Testing

@testable import MQTT

/// A subscription made while the connection comes up reaches the broker (issue 15).
///
/// The bridge subscribes to its cloud commands right after starting its cloud client.
/// Under load that subscription could land between the loop thread's list of filters
/// to resubscribe (taken before its route existed) and the session counting as
/// connected (so `subscribe` took it for offline, "subscribed on connect"): neither
/// sent it, and every cloud command went unanswered until the bridge restarted.
@Suite struct SubscribeWhileConnectingTests {
    @Test(.timeLimit(.minutes(1))) func aSubscriptionMadeWhileTheConnectionComesUpReachesTheBroker() async throws {
        let port = try await SharedBroker.port()
        let filter = "\(uniqueRoot())/command"
        let client = try makeClient(port: port)
        let events = client.session.events
        let hookEntered = Locked(false)
        // Holds the loop thread at that moment until the subscription's route exists
        // (bounded, so a broken ordering cannot hang the loop).
        client.session.beforeConnectedHook = {
            hookEntered.withLock { $0 = true }
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline,
                !events.withLock({ $0.routes.brokerSubscriptions.contains { $0.filter == filter } })
            {
                usleep(1000)
            }
        }
        client.start()
        #expect(await eventually(timeout: .seconds(10)) { hookEntered.withLock { $0 } })
        let commands = try await client.subscribe(filter, qos: .atLeastOnce)
        try await client.waitUntilConnected()

        let cloud = try makeClient(port: port)
        try await cloud.connect()
        try await cloud.publishAndWait(MQTTMessage(topic: filter, string: "go", qos: .atLeastOnce))
        #expect(await commands.next(timeout: .seconds(10))?.string == "go", "the subscription never reached the broker")
        await cloud.shutdown()
        await client.shutdown()
    }
}
