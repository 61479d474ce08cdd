import Foundation
import PhasorCore

/// Control as a gateway service that writes to devices (charge points, relays,
/// inverters) judges it: its retained status and its heartbeat as heard, and whether
/// it was last judged alive. Pure, the clock passed in. A service falls back once,
/// when control stops being alive; until then, and while nothing was heard, it does not.
struct ControlJudge: Sendable {
    private(set) var liveness = ServiceLiveness()
    /// The last verdict: nil until something about control was heard.
    private(set) var alive: Bool?

    mutating func record(status: String) { liveness.record(status: status) }

    /// False when the payload is no heartbeat (the caller logs it).
    mutating func record(heartbeat: [UInt8]) -> Bool { liveness.record(heartbeat: heartbeat) }

    /// Judges control at `now`: the verdict when it has just stopped being alive (offline,
    /// or its beat too old) — once per loss — and nil otherwise.
    mutating func judge(now: Date) -> ServiceLiveness.Verdict? {
        let verdict = liveness.verdict(now: now)
        let was = alive
        if verdict != .unknown { alive = verdict.isAlive }
        guard verdict != .unknown, !verdict.isAlive, was != false else { return nil }
        return verdict
    }
}

extension ServiceLiveness.Verdict {
    /// Why a device goes to its safe values, for `…/applied` and the log.
    var fallbackReason: String {
        if case .silent(let age) = self { return "control silent: its last heartbeat is \(Int(age)) s old" }
        return "control offline"
    }
}
