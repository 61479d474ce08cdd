import Foundation

/// Whether a device answers, decided from consecutive failed polls.
public enum Availability: String, Sendable, Hashable, Codable {
    /// Not polled yet.
    case unknown
    case online
    /// `offlineAfter` polls (or unanswered writes) in a row failed.
    case offline
}

/// Per-device counters the service publishes as they are.
public struct DeviceStatistics: Sendable, Hashable {
    public var requests = 0
    public var errors = 0
    public var timeouts = 0
    public var exceptions = 0
    public var polls = 0
    public var failedPolls = 0
    public var lastSuccess: Date?
    public var lastError: ModbusError?
    /// Round trip of the last successful poll (all its requests).
    public var lastPollDuration: Duration?

    public init() {}

    /// Seconds since the last successful poll, nil if there was none.
    public func lastSuccessAge(now: Date) -> TimeInterval? { lastSuccess.map { now.timeIntervalSince($0) } }
}

/// Availability and statistics of one device, updated after every request and poll.
public struct DeviceHealth: Sendable, Hashable {
    public let offlineAfter: Int
    public private(set) var availability: Availability = .unknown
    public private(set) var consecutiveFailures = 0
    public private(set) var statistics = DeviceStatistics()

    public init(offlineAfter: Int = 3) { self.offlineAfter = max(1, offlineAfter) }

    mutating func recordRequest(error: ModbusError?) {
        statistics.requests += 1
        guard let error else { return }
        statistics.errors += 1
        statistics.lastError = error
        if error == .timeout { statistics.timeouts += 1 }
        if case .exception = error { statistics.exceptions += 1 }
    }

    mutating func recordPoll(succeeded: Bool, at time: Date, duration: Duration) {
        statistics.polls += 1
        if succeeded {
            consecutiveFailures = 0
            availability = .online
            statistics.lastSuccess = time
            statistics.lastPollDuration = duration
        } else {
            statistics.failedPolls += 1
            recordFailure()
        }
    }

    /// A failed exchange that is not a poll (an unanswered write).
    mutating func recordFailure() {
        consecutiveFailures += 1
        if consecutiveFailures >= offlineAfter { availability = .offline }
    }
}
