import Foundation
import PhasorTesting
import Testing

@testable import MQTT

/// The queue between the loop thread and a subscription's consumer (`MessageChannel`,
/// issue 15) behaves as the `AsyncStream` it replaced: order, `buffering` keeping the
/// newest, finishing after what waits, and termination on cancel or when dropped.
@Suite struct MessageChannelTests {
    static func message(_ i: Int) -> MQTTMessage { MQTTMessage(topic: "t", string: "\(i)") }

    /// Drains `channel` through a subscription iterator until it ends.
    static func drain(_ owner: MessageChannel.Owner) async -> [String] {
        var iterator = MQTTSubscription.Iterator(owner: owner, cursor: MessageChannel.Cursor(owner.channel))
        var out: [String] = []
        while let m = await iterator.next() { out.append(m.string) }
        return out
    }

    /// What an `AsyncStream` with the same policy gives for the same yields.
    static func asyncStream(_ bursts: [[Int]], bufferingNewest limit: Int?) async -> [String] {
        let (stream, continuation) = AsyncStream<MQTTMessage>.makeStream(
            bufferingPolicy: limit.map { .bufferingNewest($0) } ?? .unbounded)
        for burst in bursts { for i in burst { continuation.yield(message(i)) } }
        continuation.finish()
        var out: [String] = []
        for await m in stream { out.append(m.string) }
        return out
    }

    @Test(arguments: [nil, 0, 1, 3, 100] as [Int?])
    func deliversWhatAnAsyncStreamWithTheSamePolicyDelivers(limit: Int?) async {
        let bursts = [[0, 1, 2], [3], [4, 5, 6, 7, 8, 9], [], [10, 11]]
        let channel = MessageChannel(bufferingNewest: limit)
        let owner = MessageChannel.Owner(channel)
        for burst in bursts { channel.yield(contentsOf: burst.map(Self.message)) }
        channel.finish()
        channel.yield(Self.message(99))  // after finish: dropped, as by AsyncStream
        let got = await Self.drain(owner)
        #expect(got == (await Self.asyncStream(bursts, bufferingNewest: limit)))
        if limit == nil { #expect(got == (0...11).map(String.init)) }
    }

    @Test func aConsumerWaitingBeforeTheBurstGetsAllOfItInOrder() async {
        let channel = MessageChannel(bufferingNewest: nil)
        let owner = MessageChannel.Owner(channel)
        let consumer = Task { await Self.drain(owner) }
        // Whether the consumer is already waiting or not, it gets every message once.
        for start in stride(from: 0, to: 1000, by: 100) {
            channel.yield(contentsOf: (start..<(start + 100)).map(Self.message))
        }
        channel.finish()
        #expect(await consumer.value == (0..<1000).map(String.init))
    }

    @Test func terminationRunsOnceOnFinish() async {
        let channel = MessageChannel(bufferingNewest: nil)
        let calls = Counter()
        channel.onTermination { calls.add() }
        channel.finish()
        channel.finish()
        #expect(calls.value == 1)
    }

    @Test func aCancelledConsumerEndsTheIterationAndTheSubscription() async {
        let channel = MessageChannel(bufferingNewest: nil)
        let calls = Counter()
        channel.onTermination { calls.add() }
        let owner = MessageChannel.Owner(channel)
        let got = await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await Self.drain(owner)
        }.value
        #expect(got.isEmpty)
        #expect(calls.value == 1)
    }

    @Test func droppingTheSubscriptionEndsIt() {
        let channel = MessageChannel(bufferingNewest: nil)
        let calls = Counter()
        channel.onTermination { calls.add() }
        do {
            let owner = MessageChannel.Owner(channel)
            _ = MQTTSubscription.Iterator(owner: owner, cursor: MessageChannel.Cursor(channel))
        }
        #expect(calls.value == 1)
    }

    /// `for await m in subscription { return m }` twice (what `next(timeout:)` helpers
    /// do): the second gets the message after the first, not the one after the burst.
    @Test func aLaterIterationGetsWhatAnEarlierOneLeftInItsBurst() async {
        let channel = MessageChannel(bufferingNewest: nil)
        let owner = MessageChannel.Owner(channel)
        func first() async -> String? {
            var iterator = MQTTSubscription.Iterator(owner: owner, cursor: MessageChannel.Cursor(channel))
            return await iterator.next()?.string
        }
        channel.yield(contentsOf: (0..<3).map(Self.message))
        #expect(await first() == "0")
        channel.yield(Self.message(3))
        #expect(await first() == "1")
        channel.finish()
        #expect(await Self.drain(owner) == ["2", "3"])
    }
}

extension MessageChannelTests {
    /// A second iteration waiting while an earlier iterator still holds the rest of its
    /// burst gets that rest when the earlier one is dropped (it gave it back without
    /// waking the waiter: a lost wake-up until the next message arrived).
    @Test func aWaitingIterationIsWokenForWhatADroppedIteratorGivesBack() async {
        let channel = MessageChannel(bufferingNewest: nil)
        let owner = MessageChannel.Owner(channel)
        var first: MQTTSubscription.Iterator? = MQTTSubscription.Iterator(owner: owner, cursor: MessageChannel.Cursor(channel))
        channel.yield(contentsOf: (0..<3).map(Self.message))
        #expect(await first?.next()?.string == "0")
        let got = Locked<String?>(nil)
        let second = Task {
            var iterator = MQTTSubscription.Iterator(owner: owner, cursor: MessageChannel.Cursor(channel))
            let m = await iterator.next()
            got.withLock { $0 = m?.string }
        }
        #expect(await eventually(timeout: .seconds(10)) { channel.hasWaitingConsumer })
        first = nil
        #expect(await eventually(timeout: .seconds(10)) { got.withLock { $0 } != nil }, "the waiting iteration was not woken")
        #expect(got.withLock { $0 } == "1")
        second.cancel()
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add() { lock.withLock { count += 1 } }
}
