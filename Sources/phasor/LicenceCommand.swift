import ArgumentParser
import Bridge
import BridgeLicences
import Crypto
import Foundation
import PhasorCore
import PhasorService

/// `phasor licence`: the box's serial, its licence, and (for the vendor and tests) issuing.
struct LicenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "licence",
        abstract: "Show, verify, install or request this box's licence; issue one with a private key.",
        discussion: "The licence gates only premium features (external alerts, cloud, reports): metering, control, "
            + "the fail-safes and Home Assistant never depend on it.",
        subcommands: [Show.self, Verify.self, Install.self, Request.self, Issue.self, Keygen.self],
        aliases: ["license"])

    /// Where the licence, the machine id and the trusted keys are: the site file's `licence:` section, or flags.
    struct Place: ParsableArguments {
        @Option(name: .long, help: "Site file whose licence: section to use.") var config: String?
        @Option(name: .long, help: "Licence file (default: the site file's, else /var/lib/phasor/licence.txt).") var file: String?
        @Option(name: .long, help: "Machine id file (default /etc/machine-id).") var machineIdFile: String?
        @Option(name: .long, help: "Folder of the trusted-time mark (default /var/lib/phasor).") var stateDir: String?
        @Option(name: .long, help: "A trusted public key: ID=BASE64 (repeatable; added to the site file's).")
        var trustedKey: [String] = []

        func section() throws -> LicenceSection {
            var section = LicenceSection()
            if let config {
                section = try SiteConfiguration.load(from: config, checks: [LicenceSiteCheck()]).site.licence ?? section
            }
            if let file { section.file = file }
            if let machineIdFile { section.machineIdFile = machineIdFile }
            if let stateDir { section.stateDir = stateDir }
            for pair in trustedKey {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--trusted-key \(pair): use ID=BASE64") }
                section.trustedKeys = (section.trustedKeys ?? [:]).merging([parts[0]: parts[1]]) { $1 }
            }
            return section
        }

        func settings() throws -> LicenceService.Settings { try LicenceService.Settings(section()) }
    }

    static func describe(_ s: LicenceStatus) -> String {
        var lines = ["serial:   \(s.serial)", "state:    \(s.state.rawValue)", "tier:     \(s.tier)",
                     "features: \(s.features.joined(separator: ", "))"]
        if let r = s.refusal { lines.append("reason:   \(r)") }
        if let l = s.licence {
            lines.append("licence:  \(l.id) for \(l.customer), tier \(l.tier)")
            lines.append("expires:  \(l.expires.map(Licence.time) ?? "never")\(s.daysLeft.map { " (\($0) days)" } ?? ""), grace \(l.graceDays) days")
            lines.append("limits:   \(l.maxDevices) devices, \(l.maxChargePoints) charge points, cloud \(l.cloud ? "yes" : "no")")
        }
        if s.clockBehind { lines.append("clock:    behind the trusted time; judged at \(Licence.time(s.judgedAt))") }
        lines.append("Metering, control, the fail-safes and Home Assistant never depend on the licence.")
        return lines.joined(separator: "\n")
    }

    static func judge(_ text: String?, _ settings: LicenceService.Settings) -> LicenceStatus {
        // Read-only: the mark moves only in the bridge.
        var time = TrustedTime.load(from: settings.markFile) ?? TrustedTime(mark: .distantPast)
        return settings.evaluator.evaluate(text, now: Date(), time: &time)
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The serial number and the installed licence's state.")
        @OptionGroup var place: Place
        func run() throws {
            let settings = try place.settings()
            print(LicenceCommand.describe(LicenceCommand.judge(try? String(contentsOfFile: settings.file, encoding: .utf8), settings)))
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Checks a licence file or activation code for this box; exit 0 when it would be honoured, 1 if not.")
        @Argument(help: "Licence file or activation code.") var licence: String
        @OptionGroup var place: Place
        func run() throws {
            let settings = try place.settings()
            let status = LicenceCommand.judge(LicenceCommand.read(licence), settings)
            print(LicenceCommand.describe(status))
            if status.state == .refused { throw ExitCode(1) }
        }
    }

    static func read(_ argument: String) -> String {
        (try? String(contentsOfFile: argument, encoding: .utf8)) ?? argument
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verifies a licence file or activation code and installs it (refused ones are not installed).")
        @Argument(help: "Licence file or activation code.") var licence: String
        @OptionGroup var place: Place
        func run() throws {
            let settings = try place.settings()
            let text = LicenceCommand.read(licence)
            let status = LicenceCommand.judge(text, settings)
            guard status.state != .refused, let file = try? LicenceFile.verify(text, keys: settings.evaluator.keys) else {
                FileHandle.standardError.write(Data("error: \(status.refusal?.description ?? "refused")\n".utf8))
                throw ExitCode(1)
            }
            let url = URL(fileURLWithPath: settings.file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.text.utf8).write(to: url, options: .atomic)
            print("installed in \(settings.file)\n" + LicenceCommand.describe(status))
        }
    }

    struct Request: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prints what to send the vendor for a licence: the serial number.")
        @OptionGroup var place: Place
        func run() throws {
            let path = try place.section().machineIdFile ?? LicenceSection.defaultMachineIdFile
            let serial = try MachineSerial.serial(machineIDFile: path)
            print("serial: \(serial)")
            print("Send this serial number with your order; install the licence you receive with `phasor licence install`.")
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Signs a licence (vendor and tests): prints the licence file, or the activation code with --code.")
        @Option(help: "File with the base64 Ed25519 private key (from `phasor licence keygen`).") var privateKey: String
        @Option(help: "Key id the boxes know the public key by.") var keyId: String
        @Option(help: "Serial number the licence is for (repeatable).") var serial: [String]
        @Option(help: "Tier: view or control.") var tier = "control"
        @Option(help: "Extra feature (repeatable).") var feature: [String] = []
        @Option(help: "Licence id (default: a random UUID).") var id: String?
        @Option(help: "Customer name.") var customer = ""
        @Option(help: "Devices allowed.") var maxDevices = 10
        @Option(help: "Charge points allowed.") var maxChargePoints = 10
        @Flag(help: "Cloud link included.") var cloud = false
        @Option(help: "Issue time, ISO 8601 (default now).") var issued: String?
        @Option(help: "Valid from, ISO 8601 (default: the issue time).") var notBefore: String?
        @Option(help: "Days of validity from not-before (the free first year: 365); 0 for perpetual.") var days = 365
        @Option(help: "Grace days after expiry.") var graceDays = 14
        @Flag(help: "Print the one-line activation code instead of the file.") var code = false

        func run() throws {
            guard let text = try? String(contentsOfFile: privateKey, encoding: .utf8),
                  let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
                throw ValidationError("--private-key \(privateKey): not a base64 Ed25519 private key")
            }
            func time(_ s: String?, _ flag: String, default d: Date) throws -> Date {
                guard let s else { return d }
                guard let t = ISO8601.parse(s)?.date else { throw ValidationError("\(flag) \(s): use 2027-01-01T00:00:00Z") }
                return t
            }
            let issuedAt = try time(issued, "--issued", default: Date())
            let from = try time(notBefore, "--not-before", default: issuedAt)
            let licence = Licence(id: id ?? UUID().uuidString.lowercased(), customer: customer, serials: serial, tier: tier,
                                  features: feature, maxDevices: maxDevices, maxChargePoints: maxChargePoints, cloud: cloud,
                                  issued: issuedAt, notBefore: from, expires: days == 0 ? nil : from + Double(days) * 86_400,
                                  graceDays: graceDays)
            let file = try LicenceFile.sign(licence, keyID: keyId, with: key)
            print(code ? file.activationCode : file.text, terminator: code ? "\n" : "")
        }
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Makes an Ed25519 key pair: writes the private key (mode 600), prints the public key for trusted_keys.")
        @Option(help: "Where to write the private key (base64).") var output: String
        func run() throws {
            let key = Curve25519.Signing.PrivateKey()
            guard FileManager.default.createFile(atPath: output, contents: Data(key.rawRepresentation.base64EncodedString().utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(output)")
            }
            print(key.publicKey.rawRepresentation.base64EncodedString())
        }
    }
}
