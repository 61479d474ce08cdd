/// Says whether a TIC line is alive, from what the port reads and when. Pure:
/// time is passed in, nothing sleeps, so tests replay hours in microseconds.
///
/// - `absent`: no byte for `silenceTimeout` and never a valid frame: nothing is
///   connected, or the demodulator has no carrier/power.
/// - `notActivated`: bytes arrive but no valid frame has formed for
///   `frameTimeout`: the line carries something that is not téléinformation at
///   this speed (TIC output off or in the other mode, wrong baud rate, noise). The
///   reference does not describe a "TIC off" signal; this is the observable form.
/// - `interrupted`: valid frames came before, but now no byte for `silenceTimeout`,
///   no valid frame for `frameTimeout`, or the meter sent EOT (it stops mid-frame
///   that way) and has not completed a frame since.
/// - `ok`: a frame with at least one checksum-valid group within `frameTimeout`.
///
/// A historique frame takes 1-2 s at 1200 Bd and frames follow back to back, so
/// the defaults (5 s silence, 10 s without a frame) allow several lost frames.
public struct TICLinkMonitor<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public enum State: Sendable, Hashable { case absent, notActivated, interrupted, ok }

    public let silenceTimeout: Duration
    public let frameTimeout: Duration
    private var framer = TICFramer()
    private var start: Instant?
    private var lastByte: Instant?
    private var firstByteSinceValid: Instant?
    private var lastValidFrame: Instant?
    private var interruptedByEOT = false

    public init(silenceTimeout: Duration = .seconds(5), frameTimeout: Duration = .seconds(10)) {
        self.silenceTimeout = silenceTimeout
        self.frameTimeout = frameTimeout
    }

    /// Feeds what one read returned (`nil` or empty when it timed out) and returns the state at `now`.
    @discardableResult
    public mutating func observe(_ bytes: [UInt8]?, at now: Instant) -> State {
        if start == nil { start = now }
        if let bytes, !bytes.isEmpty {
            lastByte = now
            if firstByteSinceValid == nil { firstByteSinceValid = now }
            let eotBefore = framer.statistics.interruptedFrames
            for frame in framer.append(bytes) where Self.hasValidGroup(frame) {
                lastValidFrame = now
                firstByteSinceValid = nil
                interruptedByEOT = false
            }
            if framer.statistics.interruptedFrames > eotBefore || framer.sawEOT, lastValidFrame != nil {
                interruptedByEOT = true
            }
        }
        return state(at: now)
    }

    /// The state at `now` without new input.
    public func state(at now: Instant) -> State {
        let everValid = lastValidFrame != nil
        guard let lastByte, lastByte.duration(to: now) < silenceTimeout else {
            return everValid ? .interrupted : .absent
        }
        if let lastValidFrame, lastValidFrame.duration(to: now) < frameTimeout, !interruptedByEOT { return .ok }
        if everValid { return .interrupted }
        if let firstByteSinceValid, firstByteSinceValid.duration(to: now) >= frameTimeout { return .notActivated }
        return .absent
    }

    private static func hasValidGroup(_ frame: TICRawFrame) -> Bool {
        frame.bytes.withUnsafeBufferPointer { buf in
            !TICGroupScanner(buf, from: 1, to: buf.count - 1).groups.isEmpty
        }
    }
}
