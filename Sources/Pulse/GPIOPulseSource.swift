import CGPIO
import Foundation
import PhasorCore

#if canImport(Glibc)
import Glibc
#endif

/// Edges of one line of a Linux GPIO character device (/dev/gpiochipN), through
/// the kernel's uAPI v2: the line is requested as an input with edge events (and
/// the kernel's debounce where the chip has one); each event carries the kernel's
/// timestamp, mapped onto the injected wall clock, and its sequence number, so
/// events the kernel had to drop are counted as missed.
public struct GPIOPulseSource: PulseSource {
    public let config: PulseInputConfig
    public let clock: any WallClock

    public init(config: PulseInputConfig, clock: any WallClock = SystemWallClock()) {
        self.config = config
        self.clock = clock
    }

    public func edges() -> AsyncThrowingStream<PulseEdge, any Error> {
        let (stream, continuation) = AsyncThrowingStream<PulseEdge, any Error>.makeStream()
        let lineFD: Int32
        do {
            lineFD = try open()
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        let stopped = Locked(false)
        continuation.onTermination = { _ in stopped.withLock { $0 = true } }
        let clock = self.clock
        let thread = Thread {
            defer { close(lineFD) }
            var lastSeqno: UInt32?
            var edge = phasor_gpio_edge()
            while !stopped.withLock({ $0 }) {
                let result = phasor_gpio_read_edge(lineFD, 250, &edge)
                if result < 0 {
                    continuation.finish(throwing: PulseSourceError(description: "GPIO read: \(String(cString: strerror(-result)))"))
                    return
                }
                guard result == 1 else { continue }
                let missed = lastSeqno.map { Int(edge.line_seqno &- $0) - 1 } ?? 0
                lastSeqno = edge.line_seqno
                let age = Double(Self.monotonicNanoseconds() &- edge.timestamp_ns) / 1e9
                continuation.yield(PulseEdge(time: clock.now().addingTimeInterval(-max(0, age)), missed: max(0, missed)))
            }
            continuation.finish()
        }
        thread.name = "gpio \(config.gpio):\(config.line)"
        thread.start()
        return stream
    }

    public func checkOpens() throws { close(try open()) }

    private func open() throws -> Int32 {
        let chip = Glibc.open(config.gpio, O_RDONLY | O_CLOEXEC)
        guard chip >= 0 else {
            throw PulseSourceError(description: "\(config.id): cannot open \(config.gpio): \(String(cString: strerror(errno)))")
        }
        defer { close(chip) }
        let edges: Int32 = config.edge == .rising ? 1 : 2
        let bias: Int32 = switch config.bias ?? .pullUp {
        case .none: 0
        case .pullUp: 1
        case .pullDown: 2
        }
        // The kernel debounces where it can; the software debouncer runs either way.
        let debounceMicroseconds = UInt32(max(0, min(Double(UInt32.max), (config.debounceMs ?? 30) * 1000)))
        let fd = phasor_gpio_request_edges(chip, UInt32(config.line), edges, bias, debounceMicroseconds, "phasor-\(config.id)")
        guard fd >= 0 else {
            throw PulseSourceError(description: "\(config.id): line \(config.line) of \(config.gpio): \(String(cString: strerror(-fd)))")
        }
        return fd
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
