/// What a meter's byte source reports: it opened, bytes arrived, or it closed
/// (and will reopen by itself after a back-off).
public enum ByteSourceEvent: Sendable, Equatable {
    /// The port, connection or file is open; `description` names it for logs.
    case opened(description: String)
    /// The next chunk, exactly as read (a partial telegram, several, or garbage).
    case bytes([UInt8])
    /// The channel closed or could not be opened; the source retries after a back-off.
    case closed(reason: String)
}

/// A source of meter bytes: serial port, TCP connection or file replay. It never
/// parses: the framers downstream are robust to partial reads and pulled cables.
public protocol ByteSource: Sendable {
    /// Where the bytes come from, for logs (`/dev/ttyUSB0 115200 8N1`, `tcp://host:8088`).
    var description: String { get }
    /// The events from now on. Cancelling the consuming task (or dropping the
    /// sequence) stops the source and closes its channel.
    func events() -> AsyncStream<ByteSourceEvent>
    /// Closes the channel and opens the source's next alternative (TIC in auto
    /// mode: the other baud rate). A source with one way to open ignores it.
    func switchToNextAlternative()
}
