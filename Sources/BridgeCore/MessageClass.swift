/// What a forwarded message is, which decides what happens to it when the outbox is
/// over its byte bound: only instantaneous values are thinned; the other classes are
/// never dropped.
public enum MessageClass: String, Sendable, Hashable, Codable, CaseIterable {
    /// A value that the next one replaces (power, currents, a device's state): thinned first.
    case instantaneous
    /// Energy registers: cumulative, never dropped.
    case energy
    /// Something that happened: never dropped.
    case event
    /// An alert raised or cleared: never dropped, sent on the priority lane.
    case alert
    /// The answer to a command: never dropped, sent on the priority lane.
    case commandResult = "command_result"
    /// The outbox's own record of what it dropped: never dropped, priority lane.
    case gap

    /// Never deleted to make room.
    public var isProtected: Bool { self != .instantaneous }

    /// The lane a message of this class takes unless told otherwise.
    public var defaultLane: Lane {
        switch self {
        case .alert, .commandResult, .gap: .priority
        case .instantaneous, .energy, .event: .live
        }
    }
}

/// Order of sending among messages that arrived while the link was up: the priority
/// lane before the live lane. What was already waiting when the link came up is the
/// backlog, replayed oldest first, rate-limited and flagged historical.
public enum Lane: Int, Sendable, Hashable, Codable, CaseIterable {
    case priority = 0
    case live = 1
}
