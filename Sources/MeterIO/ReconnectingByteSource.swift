import Foundation
import PhasorCore

/// A byte source that opens its channel on a dedicated thread, reads it with
/// short polls, and reopens it by itself after a capped back-off when it closes,
/// fails or never opened. Blocking reads stay off Swift's cooperative pool (two
/// threads on a two-core gateway).
///
/// It may have several alternatives (a TIC port at 1200 and at 9600 Bd): it opens
/// the current one, and `switchToNextAlternative()` closes it and opens the next.
public final class ReconnectingByteSource: ByteSource {
    /// How to open one alternative, and its name for logs.
    public struct Alternative: Sendable {
        public var description: String
        public var open: @Sendable () throws(ByteChannelError) -> any ByteChannel

        public init(description: String, open: @escaping @Sendable () throws(ByteChannelError) -> any ByteChannel) {
            self.description = description
            self.open = open
        }
    }

    /// Shared by the caller and the reader thread.
    private struct Control {
        var current = 0
        var switchRequested = false
        var stopped = false
    }

    /// When an open channel that sends nothing is given up and reopened: after
    /// `multiple` times the longest pause seen between two reads with data (about
    /// the meter's period: a telegram comes as one burst), kept within
    /// `minimum…maximum`; `assumedPeriod` until a pause was seen. A P1 TCP bridge
    /// can keep its socket open with nothing behind it; without this the gateway
    /// waited on it for ever.
    public struct SilenceLimit: Sendable, Hashable {
        public var multiple: Double
        public var minimum: Duration
        public var maximum: Duration
        public var assumedPeriod: Duration

        public init(multiple: Double = 3, minimum: Duration = .seconds(5), maximum: Duration = .seconds(60),
                    assumedPeriod: Duration = .seconds(10)) {
            self.multiple = multiple
            self.minimum = minimum
            self.maximum = max(minimum, maximum)
            self.assumedPeriod = assumedPeriod
        }

        /// The limit after seeing `longestPause` (nil: none yet).
        public func limit(longestPause: Duration?) -> Duration {
            min(max((longestPause ?? assumedPeriod) * multiple, minimum), maximum)
        }
    }

    public let description: String
    private let alternatives: [Alternative]
    private let backoff: Backoff
    /// nil: an open channel may stay silent for ever (serial ports: the line is ours).
    private let silence: SilenceLimit?
    /// How often a blocked read wakes up to notice cancellation or a switch.
    private let pollMilliseconds: Int32
    private let control = Locked(Control())

    public init(alternatives: [Alternative], backoff: Backoff = Backoff(), silence: SilenceLimit? = nil,
                pollMilliseconds: Int32 = 100) {
        precondition(!alternatives.isEmpty, "a source needs something to open")
        self.description = alternatives.map(\.description).joined(separator: " | ")
        self.alternatives = alternatives
        self.backoff = backoff
        self.silence = silence
        self.pollMilliseconds = pollMilliseconds
    }

    /// The source for a URL. Serial settings apply to serial URLs only (one
    /// alternative each, tried in order on request); the replay rate to file URLs
    /// only (nil: as fast as read).
    /// TCP sources get a silence limit (`silence`); serial ports and files do not.
    public static func make(url: MeterSourceURL, serial: [SerialSettings], replayBytesPerSecond: Int? = nil,
                            backoff: Backoff = Backoff(), silence: SilenceLimit = SilenceLimit()) -> ReconnectingByteSource {
        let alternatives: [Alternative]
        var silenceLimit: SilenceLimit? = nil
        switch url {
        case .serial(let path):
            alternatives = serial.map { settings in
                Alternative(description: "\(path) \(settings)") { () throws(ByteChannelError) in
                    try SerialPort.open(path: path, settings: settings)
                }
            }
        case .tcp(let host, let port):
            alternatives = [Alternative(description: url.description) { () throws(ByteChannelError) in
                try TCPClient.connect(host: host, port: port)
            }]
            silenceLimit = silence
        case .file(let path):
            alternatives = [Alternative(description: url.description) { () throws(ByteChannelError) in
                try FileReplayChannel(path: path, bytesPerSecond: replayBytesPerSecond)
            }]
        }
        return ReconnectingByteSource(alternatives: alternatives, backoff: backoff, silence: silenceLimit)
    }

    public func switchToNextAlternative() {
        guard alternatives.count > 1 else { return }
        control.withLock { c in
            c.current = (c.current + 1) % alternatives.count
            c.switchRequested = true
        }
    }

    public func events() -> AsyncStream<ByteSourceEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteSourceEvent.self)
        let control = self.control
        control.withLock { $0.stopped = false }
        continuation.onTermination = { _ in control.withLock { $0.stopped = true } }
        let thread = Thread { [self] in readLoop(continuation) }
        thread.name = "phasor-source \(description)"
        thread.start()
        return stream
    }

    private var stopped: Bool { control.withLock { $0.stopped } }

    private static func seconds(_ d: Duration) -> String {
        let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return String(format: "%.1f", s)
    }

    private func readLoop(_ continuation: AsyncStream<ByteSourceEvent>.Continuation) {
        var failures = 0
        // Across reopenings: the meter's period does not change with the connection.
        var longestPause: Duration?
        while !stopped {
            let alternative = control.withLock { c in
                c.switchRequested = false
                return alternatives[c.current]
            }
            var switched = false
            do throws(ByteChannelError) {
                let channel = try alternative.open()
                defer { channel.close() }
                failures = 0
                continuation.yield(.opened(description: alternative.description))
                var reason = "end of stream"
                var lastData = ContinuousClock.now
                var sawData = false
                while !stopped {
                    if control.withLock({ $0.switchRequested }) {
                        switched = true
                        reason = "switching to the next line settings"
                        break
                    }
                    do throws(ByteChannelError) {
                        guard let bytes = try channel.read(timeoutMilliseconds: pollMilliseconds) else { break }
                        let now = ContinuousClock.now
                        if !bytes.isEmpty {
                            if sawData { longestPause = max(longestPause ?? .zero, now - lastData) }
                            sawData = true
                            lastData = now
                            continuation.yield(.bytes(bytes))
                        } else if let silence, now - lastData >= silence.limit(longestPause: longestPause) {
                            reason = "silent for \(Self.seconds(now - lastData)) s: reopening"
                            break
                        }
                    } catch {
                        reason = error.description
                        break
                    }
                }
                if stopped { break }
                continuation.yield(.closed(reason: reason))
            } catch {
                continuation.yield(.closed(reason: error.description))
            }
            if switched { continue }
            failures += 1
            // Sleep in slices so cancellation is noticed within one poll interval.
            let until = ContinuousClock.now + backoff.delay(afterFailures: failures)
            while ContinuousClock.now < until, !stopped, !control.withLock({ $0.switchRequested }) {
                Thread.sleep(forTimeInterval: Double(pollMilliseconds) / 1000)
            }
        }
        continuation.finish()
    }
}
