/// The queue between the loop thread and one subscription's consumer: what
/// `AsyncStream<MQTTMessage>` did before, specialised for messages and handing over
/// bursts.
///
/// Why not `AsyncStream` (issue 15's receive profile): its storage is generic code of
/// the standard library, not specialised for `MQTTMessage`, so every `yield` and every
/// `next()` looked up generic metadata (~9 % of a QoS 0 receive) and popped its deque
/// through unspecialised witnesses (~7 %). Here the loop thread appends a whole turn's
/// burst under one lock and wakes the consumer once; the consumer takes everything
/// waiting under one lock (unbounded subscriptions) and serves it from its iterator
/// without locking again.
///
/// Behaviour kept from the `AsyncStream` it replaces:
/// - `buffering: n` keeps only the newest `n` waiting messages (older ones dropped), and
///   a consumer then takes one message at a time, as before;
/// - `finish()` ends iteration after what is already waiting has been delivered;
/// - `onTermination` runs once: on `finish()`, when the consuming task is cancelled
///   (checked when it asks for more and while it waits), or when the subscription and
///   all its iterators are gone;
/// - one consumer at a time: a second task waiting on the same subscription traps, as
///   `AsyncStream` does;
/// - a later iteration of the same subscription gets what an earlier one left: an
///   iterator dropped mid-burst gives the rest back (`Cursor`).
final class MessageChannel: Sendable {
    private struct State {
        var buffer: [MQTTMessage] = []
        /// Index of the oldest message not yet taken (one-at-a-time mode).
        var head = 0
        var finished = false
        /// The message at `head` was handed to a consumer that was waiting (woken, not
        /// yet run): it is never dropped to make room, as `AsyncStream` gave it directly.
        var promised = false
        var waiter: UnsafeContinuation<Void, Never>?
        var onTermination: (@Sendable () -> Void)?

        var waiting: Int { buffer.count - head }
    }

    /// Nil: unbounded (the consumer takes whole bursts).
    let limit: Int?
    private let state = Locked(State())

    init(bufferingNewest limit: Int?) {
        self.limit = limit.map { max(0, $0) }
    }

    func onTermination(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.onTermination = handler }
    }

    func yield(_ message: MQTTMessage) {
        yield(contentsOf: CollectionOfOne(message))
    }

    /// Appends messages (oldest first) and wakes a waiting consumer once.
    func yield(contentsOf messages: some Collection<MQTTMessage>) {
        let waiter = state.withLock { s -> UnsafeContinuation<Void, Never>? in
            guard !s.finished, !messages.isEmpty else { return nil }
            s.buffer.append(contentsOf: messages)
            if s.waiter != nil, limit != nil { s.promised = true }
            if let limit {
                // Keep the promised message and the newest `limit` after it.
                let protected = s.head + (s.promised ? 1 : 0)
                let excess = s.buffer.count - protected - limit
                if excess > 0 { s.buffer.removeSubrange(protected..<(protected + excess)) }
            }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Ends iteration once what is waiting has been taken.
    func finish() {
        let (waiter, handler) = state.withLock { s -> (UnsafeContinuation<Void, Never>?, (@Sendable () -> Void)?) in
            s.finished = true
            defer {
                s.waiter = nil
                s.onTermination = nil
            }
            return (s.waiter, s.onTermination)
        }
        waiter?.resume()
        handler?()
    }

    /// What the consumer takes next: every waiting message (unbounded) or the oldest
    /// one (`buffering`); empty once finished and drained.
    func take() async -> ArraySlice<MQTTMessage> {
        if Task.isCancelled { finish() }
        while true {
            if let taken = takeWaiting() { return taken }
            await withTaskCancellationHandler {
                await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        guard s.waiting == 0, !s.finished else { return true }
                        precondition(s.waiter == nil, "attempt to await next() on more than one task")
                        s.waiter = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            } onCancel: {
                finish()
            }
        }
    }

    private func takeWaiting() -> ArraySlice<MQTTMessage>? {
        state.withLock { s -> ArraySlice<MQTTMessage>? in
            if s.waiting == 0 { return s.finished ? [] : nil }
            if limit == nil {
                defer {
                    s.buffer = []
                    s.head = 0
                }
                return s.buffer[s.head...]
            }
            let first = s.buffer[s.head]
            s.head += 1
            s.promised = false
            compact(&s)
            return [first]
        }
    }

    /// Messages an iterator took but did not deliver, back at the front (before what
    /// arrived since), as if never taken: `AsyncStream` kept them in its buffer for the
    /// next iterator. A consumer already waiting (another iterator, which found nothing
    /// while these were out) is woken for them, as by `yield`.
    func giveBack(_ messages: ArraySlice<MQTTMessage>) {
        guard !messages.isEmpty else { return }
        let waiter = state.withLock { s -> UnsafeContinuation<Void, Never>? in
            s.buffer.insert(contentsOf: messages, at: s.head)
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// A consumer waits for messages (tests).
    var hasWaitingConsumer: Bool { state.withLock { $0.waiter != nil } }

    /// Drops taken messages from the front once they are half the buffer.
    private func compact(_ s: inout State) {
        if s.head == s.buffer.count {
            s.buffer.removeAll(keepingCapacity: true)
            s.head = 0
        } else if s.head > 32, s.head * 2 > s.buffer.count {
            s.buffer.removeSubrange(0..<s.head)
            s.head = 0
        }
    }

    /// An iterator's burst: what it took from the channel and has not delivered yet.
    /// A class, so that an iterator dropped mid-burst gives the rest back.
    final class Cursor {
        let channel: MessageChannel
        var burst: ArraySlice<MQTTMessage> = []
        init(_ channel: MessageChannel) { self.channel = channel }
        deinit { channel.giveBack(burst) }
    }

    /// Held by a subscription and its iterators; when the last of them goes, the
    /// channel ends as if cancelled (as an `AsyncStream` dropped by its consumer did).
    final class Owner: Sendable {
        let channel: MessageChannel
        init(_ channel: MessageChannel) { self.channel = channel }
        deinit { channel.finish() }
    }
}
