import Foundation

/// `…/status/<service>/heartbeat` (retained, schemas/heartbeat.schema.json): a
/// running service's start time and the time of its latest beat, sent every
/// `interval`. The `online`/`offline` on `…/status/<service>` stays for
/// compatibility, but alone it can lie: a service that dies while a persistent
/// broker is down leaves a retained `online` that no will ever replaces. A beat
/// cannot outlive its sender; others judge it by its age (`ServiceLiveness`).
public struct HeartbeatPayload: Sendable, Hashable {
    public var service: String
    /// When the process started (a restart shows as a new start time).
    public var started: Date
    /// When this beat was sent.
    public var time: Date
    /// Seconds between beats.
    public var interval: TimeInterval

    /// Seconds between beats of the shipped services.
    public static let defaultInterval: TimeInterval = 5
    /// A beat older than this many intervals means the sender is gone.
    public static let missedBeatsBeforeDead: Double = 3

    public init(service: String, started: Date, time: Date, interval: TimeInterval = Self.defaultInterval) {
        self.service = service
        self.started = started
        self.time = time
        self.interval = interval
    }

    /// How old a beat may get before its sender counts as gone (s).
    public var maximumAge: TimeInterval { interval * Self.missedBeatsBeforeDead }

    public func encode() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("service"); w.value(service)
        w.key("started"); w.value(ISO8601.format(started, utcOffsetSeconds: 0))
        w.key("time"); w.value(ISO8601.format(time, utcOffsetSeconds: 0))
        w.key("interval_s"); w.value(interval)
        w.endObject()
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> HeartbeatPayload {
        let o = try JSONObject(bytes)
        guard let interval = try o.number("interval_s") else { throw .missingField("interval_s") }
        guard interval.isFinite, interval > 0 else { throw .invalidField("interval_s", reason: "must be positive seconds") }
        return HeartbeatPayload(service: try o.requiredString("service"), started: try o.requiredTime("started"),
                                time: try o.requiredTime("time"), interval: interval)
    }
}

/// What one judge (the gateway about control, the bridge about everyone) knows of
/// a service: its retained status and its latest heartbeat. Pure, clock passed in.
public struct ServiceLiveness: Sendable, Hashable {
    public enum Verdict: Sendable, Hashable {
        /// Nothing heard yet.
        case unknown
        case online
        /// Its status says so (will or goodbye).
        case offline
        /// Its status says online but its latest beat is this many seconds old.
        case silent(age: TimeInterval)

        public var isAlive: Bool { self == .online }
    }

    /// `online`, `offline` or nil (nothing or an empty, cleared status).
    public private(set) var status: String?
    /// nil until a beat arrived: a service without any (an older version) is
    /// believed on its status alone.
    public private(set) var heartbeat: HeartbeatPayload?

    public init() {}

    public mutating func record(status payload: String) {
        status = payload == "online" || payload == "offline" ? payload : nil
    }

    /// A payload that does not decode is ignored (and should be logged by the caller).
    @discardableResult
    public mutating func record(heartbeat payload: [UInt8]) -> Bool {
        guard !payload.isEmpty else { heartbeat = nil; return true }
        guard let beat = try? HeartbeatPayload.decode(payload) else { return false }
        if let known = heartbeat, known.time > beat.time { return true }
        heartbeat = beat
        return true
    }

    public func verdict(now: Date) -> Verdict {
        switch status {
        case nil: return .unknown
        case "offline": return .offline
        default:
            guard let heartbeat else { return .online }
            let age = now.timeIntervalSince(heartbeat.time)
            return age > heartbeat.maximumAge ? .silent(age: age) : .online
        }
    }
}
