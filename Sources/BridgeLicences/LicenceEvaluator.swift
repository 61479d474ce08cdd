import Crypto
import Foundation
import PhasorCore

/// What the licence allows now, and why. Only ever gates premium features
/// (external alert delivery, cloud, reports); never metering, control, the
/// fail-safes or Home Assistant.
public struct LicenceStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Valid, more than the first warning away from expiry.
        case valid
        /// Valid, within a warning (30, 7, 1 days).
        case expiring
        /// Past expiry, within the grace days: still honoured.
        case grace
        /// Refused (reason says why): the free tier applies.
        case refused
        /// No licence installed: the free tier applies.
        case unlicensed
    }

    public var state: State
    public var serial: String
    /// The tier in force: the licence's while valid, expiring or in grace; else the free tier.
    public var tier: String
    public var features: [String]
    public var licence: Licence?
    public var refusal: LicenceRefusal?
    /// Whole days until expiry (negative in grace); nil for a perpetual licence.
    public var daysLeft: Int?
    /// The warning level reached (30, 7, 1), if any.
    public var warning: Int?
    /// The wall clock is behind the trusted-time mark: judged at the mark.
    public var clockBehind: Bool
    public var judgedAt: Date

    public func allows(_ feature: String) -> Bool { features.contains(feature) }

    /// The retained `licence` topic.
    public var json: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("state"); w.value(state.rawValue)
        w.key("serial"); w.value(serial)
        w.key("tier"); w.value(tier)
        w.key("features"); w.beginArray(); for f in features { w.value(f) }; w.endArray()
        if let refusal {
            w.key("reason"); w.value(refusal.code)
            w.key("message"); w.value(refusal.description)
        }
        if let l = licence {
            w.key("licence_id"); w.value(l.id)
            w.key("licensed_tier"); w.value(l.tier)
            w.key("expires"); w.optional(l.expires.map(Licence.time))
            w.key("grace_days"); w.value(l.graceDays)
            w.key("max_devices"); w.value(l.maxDevices)
            w.key("max_charge_points"); w.value(l.maxChargePoints)
            w.key("cloud"); w.value(l.cloud)
        }
        w.key("days_left"); w.optional(daysLeft)
        w.key("warning_days"); w.optional(warning)
        w.key("clock_behind"); w.value(clockBehind)
        w.key("time"); w.value(Licence.time(judgedAt))
        w.key("safety"); w.value("metering, control, fail-safes and Home Assistant never depend on the licence")
        w.endObject()
        return w.bytes
    }
}

/// Judges a licence file at a trusted time. Pure.
public struct LicenceEvaluator: Sendable {
    public var serial: String
    /// Trusted public keys by key id, raw (32 bytes): swift-crypto's key type is not Sendable.
    public var trustedKeys: [String: Data]
    public var keys: [String: Curve25519.Signing.PublicKey] {
        trustedKeys.compactMapValues { try? Curve25519.Signing.PublicKey(rawRepresentation: $0) }
    }
    public var tiers: [String: [String]]
    public var warnDays: [Int]

    public init(serial: String, keys: [String: Curve25519.Signing.PublicKey], tiers: [String: [String]] = LicenceTiers.defaults,
                warnDays: [Int] = LicenceSection.defaultWarnDays) {
        self.serial = serial
        trustedKeys = keys.mapValues { $0.rawRepresentation }
        self.tiers = tiers
        self.warnDays = warnDays.sorted(by: >)
    }

    /// `text`: the installed file or nil; `time`: the trusted-time mark, moved
    /// forward by this evaluation (the caller saves it).
    public func evaluate(_ text: String?, now: Date, time: inout TrustedTime) -> LicenceStatus {
        var judged = time.judge(now)
        let free = tiers[LicenceTiers.free] ?? []
        func status(_ state: LicenceStatus.State, refusal: LicenceRefusal? = nil, licence: Licence? = nil) -> LicenceStatus {
            LicenceStatus(state: state, serial: serial, tier: LicenceTiers.free, features: free, licence: licence, refusal: refusal,
                          daysLeft: nil, warning: nil, clockBehind: judged.clockBehind, judgedAt: judged.at)
        }
        defer { if !judged.clockBehind { time.advance(to: now) } }
        guard let text else { return status(.unlicensed) }
        let file: LicenceFile
        do { file = try LicenceFile.verify(text, keys: keys) } catch { return status(.refused, refusal: error) }
        let l = file.licence
        guard l.serials.contains(serial) else {
            return status(.refused, refusal: .otherMachine(licensed: l.serials, this: serial), licence: l)
        }
        // A licence issued (by the vendor's clock) well after our "now" proves our clock is behind.
        if l.issued > judged.at + TrustedTime.tolerance {
            time.advance(to: l.issued)
            judged = (l.issued, true)
        }
        let at = judged.at
        guard at >= l.notBefore else { return status(.refused, refusal: .notYetValid(l.notBefore), licence: l) }
        var granted = status(.valid, licence: l)
        granted.tier = l.tier
        granted.features = Array(Set((tiers[l.tier] ?? []) + l.features)).sorted()
        guard let expires = l.expires else { return granted }
        let left = expires.timeIntervalSince(at)
        granted.daysLeft = Int((left / 86_400).rounded(.up))
        if left > 0 {
            granted.warning = warnDays.last(where: { left <= Double($0) * 86_400 })
            if granted.warning != nil { granted.state = .expiring }
            return granted
        }
        if -left < Double(l.graceDays) * 86_400 {
            granted.state = .grace
            granted.daysLeft = Int((left / 86_400).rounded(.down))
            return granted
        }
        return status(.refused, refusal: .expired(expires), licence: l)
    }
}
