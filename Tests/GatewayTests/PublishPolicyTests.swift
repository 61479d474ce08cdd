import Foundation
import Gateway
import PhasorCore
import Testing

/// The per-quantity throttle on its own, time passed in.
@Suite struct PublishPolicyTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Feeds (quantity, value, seconds after t0) in order; returns which were admitted.
    private func admitted(_ policy: PublishPolicy, _ inputs: [(Quantity, MeasuredValue, TimeInterval)]) -> [Bool] {
        var throttle = QuantityThrottle(policy: policy)
        return inputs.map { throttle.admit($0.0, $0.1, at: t0 + $0.2) }
    }

    @Test func minimumIntervalHoldsBackEvenLargeChanges() {
        let result = admitted(PublishPolicy(minInterval: 10, maxInterval: 60), [
            (.power, .number(100), 0), (.power, .number(5000), 9.9), (.power, .number(5000), 10),
        ])
        #expect(result == [true, false, true])
    }

    @Test func maximumIntervalRepublishesAnUnchangedValue() {
        let result = admitted(PublishPolicy(minInterval: 0, maxInterval: 60), [
            (.voltage, .number(230), 0), (.voltage, .number(230), 59), (.voltage, .number(230), 60),
        ])
        #expect(result == [true, false, true])
    }

    @Test func deadbandIsPerQuantityAndMeasuredFromTheLastPublishedValue() {
        let result = admitted(PublishPolicy(minInterval: 0, maxInterval: 300, deadbands: [.voltage: 1]), [
            (.voltage, .number(230.0), 0), (.voltage, .number(230.6), 1), (.voltage, .number(229.2), 2),
            (.voltage, .number(231.0), 3),
            // No deadband configured: any change is published, no change is not.
            (.power, .number(1), 0), (.power, .number(2), 1), (.power, .number(2), 2),
            (Quantity("tariff"), .text("HP"), 0), (Quantity("tariff"), .text("HC"), 1),
        ])
        #expect(result == [true, false, false, true, true, true, false, true, true])
    }
}
