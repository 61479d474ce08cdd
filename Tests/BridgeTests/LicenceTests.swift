import BridgeLicences
import Crypto
import Foundation
import Testing

/// Each licence case of issue 13 with its outcome, on injected time.
@Suite struct LicenceTests {
    // Raw bytes: swift-crypto's key types are not Sendable.
    static let vendorKey = Curve25519.Signing.PrivateKey().rawRepresentation
    static let strangerKey = Curve25519.Signing.PrivateKey().rawRepresentation
    static var vendor: Curve25519.Signing.PrivateKey { try! .init(rawRepresentation: vendorKey) }
    static var stranger: Curve25519.Signing.PrivateKey { try! .init(rawRepresentation: strangerKey) }
    let serial = MachineSerial.serial(machineID: "0123456789abcdef0123456789abcdef")
    let issued = Date(timeIntervalSince1970: 1_800_000_000)
    let day: TimeInterval = 86_400

    var evaluator: LicenceEvaluator { LicenceEvaluator(serial: serial, keys: ["vendor-1": Self.vendor.publicKey]) }

    func licence(serials: [String]? = nil, days: Double? = 365, grace: Int = 14, notBefore: Date? = nil) -> Licence {
        Licence(id: "L-1", customer: "Dupont SA", serials: serials ?? [serial], tier: "control", features: ["cloud_export"],
                maxDevices: 10, maxChargePoints: 4, cloud: true, issued: issued, notBefore: notBefore ?? issued,
                expires: days.map { (notBefore ?? issued) + $0 * 86_400 }, graceDays: grace)
    }

    func text(_ l: Licence, key: Curve25519.Signing.PrivateKey = vendor, keyID: String = "vendor-1") throws -> String {
        try LicenceFile.sign(l, keyID: keyID, with: key).text
    }

    func judge(_ text: String?, at now: Date, mark: Date = .distantPast) -> (LicenceStatus, TrustedTime) {
        var time = TrustedTime(mark: mark)
        let status = evaluator.evaluate(text, now: now, time: &time)
        return (status, time)
    }

    @Test func aValidLicenceGrantsItsTierAndFeatures() throws {
        let (s, time) = judge(try text(licence()), at: issued + 10 * day)
        #expect(s.state == .valid)
        #expect(s.tier == "control")
        #expect(s.allows("alerts") && s.allows("cloud_export") && s.allows("live_view"))
        #expect(s.daysLeft == 355)
        #expect(s.refusal == nil)
        #expect(time.mark == issued + 10 * day, "the trusted-time mark follows the clock")
        let json = String(decoding: s.json, as: UTF8.self)
        #expect(json.contains(#""state":"valid""#) && json.contains(#""serial":"\#(serial)""#))
    }

    @Test func theFileIsCanonicalTextWithVersionAndKeyID() throws {
        let t = try text(licence())
        let lines = t.split(separator: "\n").map(String.init)
        #expect(lines.prefix(3) == ["phasor-licence-v1", "key_id=vendor-1", "id=L-1"])
        #expect(lines.contains("serials=\(serial)"))
        #expect(lines.contains("expires=2028-01-15T08:00:00Z"))
        #expect(lines.last?.hasPrefix("signature=") == true)
        // The activation code is the same file on one line.
        let code = try LicenceFile.sign(licence(), keyID: "vendor-1", with: Self.vendor).activationCode
        #expect(!code.contains("\n") && !code.contains("="))
        #expect(judge(code, at: issued + day).0.state == .valid)
    }

    @Test func aForgedSignatureIsRefused() throws {
        let forged = try text(licence(), key: Self.stranger)
        let s = judge(forged, at: issued + day).0
        #expect(s.state == .refused)
        #expect(s.refusal == .badSignature)
        #expect(s.tier == "view" && !s.allows("alerts") && s.allows("load_balancing"))
    }

    @Test func anAlteredFieldIsRefused() throws {
        let altered = try text(licence()).replacingOccurrences(of: "max_devices=10", with: "max_devices=32")
        #expect(judge(altered, at: issued + day).0.refusal == .badSignature)
        let longer = try text(licence()).replacingOccurrences(of: "expires=2028", with: "expires=2038")
        #expect(judge(longer, at: issued + day).0.refusal == .badSignature)
        let reordered = try text(licence()).replacingOccurrences(of: "id=L-1\ncustomer=Dupont SA", with: "customer=Dupont SA\nid=L-1")
        #expect(judge(reordered, at: issued + day).0.refusal?.code == "malformed")
    }

    @Test func aWrongKeyIDIsRefused() throws {
        let s = judge(try text(licence(), keyID: "vendor-9"), at: issued + day).0
        #expect(s.refusal == .unknownKey("vendor-9"))
        #expect(s.refusal?.description == "signed with key 'vendor-9', which this box does not trust")
    }

    @Test func anExpiredLicenceIsHonouredDuringGraceThenRefused() throws {
        let t = try text(licence(days: 365, grace: 14))
        let within = judge(t, at: issued + 370 * day).0
        #expect(within.state == .grace)
        #expect(within.tier == "control" && within.allows("alerts"))
        #expect(within.daysLeft == -5)
        let after = judge(t, at: issued + 380 * day).0
        #expect(after.state == .refused)
        #expect(after.refusal == .expired(issued + 365 * day))
        #expect(after.tier == "view")
        #expect(after.refusal?.description.contains("grace period over") == true)
    }

    @Test func warningsAt30And7And1Days() throws {
        let t = try text(licence(days: 365))
        #expect(judge(t, at: issued + 300 * day).0.warning == nil)
        let w30 = judge(t, at: issued + 340 * day).0
        #expect(w30.state == .expiring && w30.warning == 30 && w30.daysLeft == 25)
        #expect(judge(t, at: issued + 360 * day).0.warning == 7)
        #expect(judge(t, at: issued + 364.5 * day).0.warning == 1)
        #expect(judge(t, at: issued + 364.5 * day).0.allows("alerts"), "warnings do not take anything away")
    }

    @Test func aLicenceForAnotherMachineIsRefused() throws {
        let other = MachineSerial.serial(machineID: "ffffffffffffffffffffffffffffffff")
        let s = judge(try text(licence(serials: [other])), at: issued + day).0
        #expect(s.refusal == .otherMachine(licensed: [other], this: serial))
        #expect(judge(try text(licence(serials: [other, serial])), at: issued + day).0.state == .valid, "one of several")
    }

    @Test func aLicenceNotYetValidIsRefusedUntilItsDate() throws {
        let t = try text(licence(notBefore: issued + 30 * day))
        #expect(judge(t, at: issued + day).0.refusal == .notYetValid(issued + 30 * day))
        #expect(judge(t, at: issued + 31 * day).0.state == .valid)
    }

    @Test func settingTheClockBackAYearDoesNotReviveAnExpiredLicence() throws {
        let t = try text(licence(days: 365, grace: 14))
        // The bridge saw the licence expired (mark at day 400)…
        let (expired, time) = judge(t, at: issued + 400 * day)
        #expect(expired.state == .refused)
        // …then someone sets the clock back a year.
        var mark = time
        let back = evaluator.evaluate(t, now: issued + 35 * day, time: &mark)
        #expect(back.clockBehind)
        #expect(back.state == .refused, "judged at the trusted mark, not at the wall clock")
        #expect(back.judgedAt == issued + 400 * day)
        #expect(mark.mark == issued + 400 * day, "the mark never moves back")
        // A small difference (NTP correcting a few seconds, < 24 h) is not a rollback.
        #expect(!TrustedTime(mark: issued + 400 * day).judge(issued + 400 * day - 3600).clockBehind)
    }

    @Test func aLicenceIssuedAfterTheBoxsNowProvesTheClockBehind() throws {
        // A box whose RTC reset to 2025 with a licence issued in 2027: judged at the issue time.
        let t = try text(licence())
        var time = TrustedTime(mark: .distantPast)
        let s = evaluator.evaluate(t, now: issued - 700 * day, time: &time)
        #expect(s.clockBehind && s.state == .valid && s.judgedAt == issued)
        #expect(time.mark == issued)
    }

    @Test func noLicenceIsTheFreeTier() {
        let s = judge(nil, at: issued).0
        #expect(s.state == .unlicensed && s.tier == "view" && s.allows("load_balancing") && !s.allows("alerts"))
    }

    @Test func garbageIsRefusedWithAReason() {
        #expect(judge("hello", at: issued).0.refusal?.code == "malformed")
        #expect(judge("phasor-licence-v2\nkey_id=x\nsignature=AAAA", at: issued).0.refusal?.code == "malformed")
    }

    @Test func theSerialIsStableAndShaped() {
        let a = MachineSerial.serial(machineID: "0123456789abcdef0123456789abcdef\n")
        #expect(a == serial)
        #expect(a.hasPrefix("PHS-") && a.count == 23)
        #expect(MachineSerial.serial(machineID: "0123456789abcdef0123456789abcdee") != a)
    }

    @Test func theTrustedTimeMarkSurvivesOnDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-mark-\(UUID())/trusted-time").path
        try TrustedTime(mark: issued).save(to: path)
        #expect(TrustedTime.load(from: path)?.mark == issued)
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
}
