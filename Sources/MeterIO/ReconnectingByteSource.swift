import Foundation
import PhasorCore

/// A byte source that opens its channel on a dedicated thread, reads it with
/// short polls, and reopens it by itself after a capped back-off when it closes,
/// fails or never opened. Blocking reads stay off Swift's cooperative pool (two
/// threads on a two-core gateway).
public final class ReconnectingByteSource: ByteSource {
    public let description: String
    private let open: @Sendable () throws(ByteChannelError) -> any ByteChannel
    private let backoff: Backoff
    /// How often a blocked read wakes up to notice that the consumer has gone.
    private let pollMilliseconds: Int32

    public init(description: String, backoff: Backoff = Backoff(), pollMilliseconds: Int32 = 100,
                open: @escaping @Sendable () throws(ByteChannelError) -> any ByteChannel) {
        self.description = description
        self.open = open
        self.backoff = backoff
        self.pollMilliseconds = pollMilliseconds
    }

    /// The source for a URL. Serial settings apply to serial URLs only; the replay
    /// rate to file URLs only (nil: as fast as read).
    public static func make(url: MeterSourceURL, serial: SerialSettings, replayBytesPerSecond: Int? = nil,
                            backoff: Backoff = Backoff()) -> ReconnectingByteSource {
        switch url {
        case .serial(let path):
            ReconnectingByteSource(description: "\(path) \(serial)", backoff: backoff) { () throws(ByteChannelError) in
                try SerialPort.open(path: path, settings: serial)
            }
        case .tcp(let host, let port):
            ReconnectingByteSource(description: url.description, backoff: backoff) { () throws(ByteChannelError) in
                try TCPClient.connect(host: host, port: port)
            }
        case .file(let path):
            ReconnectingByteSource(description: url.description, backoff: backoff) { () throws(ByteChannelError) in
                try FileReplayChannel(path: path, bytesPerSecond: replayBytesPerSecond)
            }
        }
    }

    public func events() -> AsyncStream<ByteSourceEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteSourceEvent.self)
        let stopped = Locked(false)
        continuation.onTermination = { _ in stopped.withLock { $0 = true } }
        let open = self.open
        let backoff = self.backoff
        let poll = self.pollMilliseconds
        let description = self.description
        let thread = Thread {
            Self.readLoop(open: open, backoff: backoff, pollMilliseconds: poll, description: description,
                          stopped: stopped, continuation: continuation)
        }
        thread.name = "phasor-source \(description)"
        thread.start()
        return stream
    }

    private static func readLoop(
        open: @Sendable () throws(ByteChannelError) -> any ByteChannel, backoff: Backoff, pollMilliseconds: Int32,
        description: String, stopped: Locked<Bool>, continuation: AsyncStream<ByteSourceEvent>.Continuation
    ) {
        var failures = 0
        while !stopped.withLock({ $0 }) {
            do throws(ByteChannelError) {
                let channel = try open()
                defer { channel.close() }
                failures = 0
                continuation.yield(.opened(description: description))
                var reason = "end of stream"
                while !stopped.withLock({ $0 }) {
                    do throws(ByteChannelError) {
                        guard let bytes = try channel.read(timeoutMilliseconds: pollMilliseconds) else { break }
                        if !bytes.isEmpty { continuation.yield(.bytes(bytes)) }
                    } catch {
                        reason = error.description
                        break
                    }
                }
                if stopped.withLock({ $0 }) { break }
                continuation.yield(.closed(reason: reason))
            } catch {
                continuation.yield(.closed(reason: error.description))
            }
            failures += 1
            // Sleep in slices so cancellation is noticed within one poll interval.
            let until = ContinuousClock.now + backoff.delay(afterFailures: failures)
            while ContinuousClock.now < until, !stopped.withLock({ $0 }) {
                Thread.sleep(forTimeInterval: Double(pollMilliseconds) / 1000)
            }
        }
        continuation.finish()
    }
}
