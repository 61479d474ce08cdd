import Foundation
import PhasorCore

/// One counted edge of an S0 output.
public struct PulseEdge: Sendable, Hashable {
    public var time: Date
    /// Edges the source knows it missed just before this one (the kernel's buffer overflowed).
    public var missed: Int

    public init(time: Date, missed: Int = 0) {
        self.time = time
        self.missed = missed
    }
}

/// Where pulses come from: a GPIO line, a FIFO a test or demo writes to, or a test's own hand.
public protocol PulseSource: Sendable {
    /// The edges, until the source ends or the consumer stops iterating.
    func edges() -> AsyncThrowingStream<PulseEdge, any Error>
    /// Throws when the source cannot be opened now (no GPIO chip, line taken), so a
    /// consumer can report it offline and retry; the default opens nothing.
    func checkOpens() throws
}

extension PulseSource {
    public func checkOpens() throws {}
}

/// Pulses a test gives by hand, with the time it chooses.
public final class ManualPulseSource: PulseSource {
    private let stream: AsyncThrowingStream<PulseEdge, any Error>
    private let continuation: AsyncThrowingStream<PulseEdge, any Error>.Continuation

    public init() { (stream, continuation) = AsyncThrowingStream.makeStream() }

    public func edges() -> AsyncThrowingStream<PulseEdge, any Error> { stream }
    public func pulse(at time: Date) { continuation.yield(PulseEdge(time: time)) }
    public func finish() { continuation.finish() }
}

/// One pulse per line read from a file or FIFO: an empty line is a pulse now, a
/// number is a pulse at that Unix time (so a driver controls time). For tests, the
/// demo, and feeding pulses from another program.
public struct LinePulseSource: PulseSource {
    public let path: String
    public let clock: any WallClock

    public init(path: String, clock: any WallClock = SystemWallClock()) {
        self.path = path
        self.clock = clock
    }

    public func edges() -> AsyncThrowingStream<PulseEdge, any Error> {
        let (stream, continuation) = AsyncThrowingStream<PulseEdge, any Error>.makeStream()
        let path = self.path
        let clock = self.clock
        // Reading a FIFO blocks: its own thread, never the cooperative pool.
        let thread = Thread {
            guard let file = fopen(path, "r") else {
                continuation.finish(throwing: PulseSourceError(description: "cannot open \(path): \(String(cString: strerror(errno)))"))
                return
            }
            defer { fclose(file) }
            var buffer = [CChar](repeating: 0, count: 256)
            while fgets(&buffer, Int32(buffer.count), file) != nil {
                let line = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.trimmingCharacters(in: .whitespacesAndNewlines)
                let time = Double(line).map { Date(timeIntervalSince1970: $0) } ?? clock.now()
                if case .terminated = continuation.yield(PulseEdge(time: time)) { return }
            }
            continuation.finish()
        }
        thread.name = "pulses \(path)"
        thread.start()
        return stream
    }
}

public struct PulseSourceError: Error, CustomStringConvertible {
    public let description: String
}
