import BridgeAlerts
import BridgeDelivery
import Foundation
import PhasorTesting
import Testing
import TestTraits

/// E-mail to a real SMTP server on loopback (aiosmtpd) with STARTTLS or TLS and
/// AUTH, the message parsed back with Python's email package.
@Suite(.serialized, .enabled(if: peerPython != nil, "needs PHASOR_PYTHON with aiosmtpd (scripts/test.sh sets it)"), .endToEnd)
struct EmailTests {
    struct Server {
        let port: Int
        let folder: URL
        let process: ChildProcess
        var cert: String { folder.appendingPathComponent("cert.pem").path }
    }

    /// A self-signed certificate for 127.0.0.1, made with openssl.
    static func makeCertificate(in folder: URL) async throws {
        let generate = try ChildProcess("openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", folder.appendingPathComponent("key.pem").path, "-out", folder.appendingPathComponent("cert.pem").path])
        #expect(await generate.waitForExit(timeout: .seconds(30)) == 0)
    }

    static func start(mode: String, folder: URL) async throws -> Server {
        try await makeCertificate(in: folder)
        let port = Loopback.freePort()
        let mail = folder.appendingPathComponent("mail")
        try FileManager.default.createDirectory(at: mail, withIntermediateDirectories: true)
        let process = try ChildProcess(try #require(peerPython), [
            try script("smtp_sink.py"), String(port), mail.path, folder.appendingPathComponent("cert.pem").path,
            folder.appendingPathComponent("key.pem").path, mode, "phasor", "pa55 wörd"],
            outputFile: folder.appendingPathComponent("smtp.log").path)
        #expect(await Loopback.waitUntilListening(port: port, timeout: .seconds(30)), "the SMTP server did not start")
        return Server(port: port, folder: folder, process: process)
    }

    func received(_ server: Server) async throws -> [String: String]? {
        let file = server.folder.appendingPathComponent("mail/1.eml").path
        guard await eventually(timeout: .seconds(10), { FileManager.default.fileExists(atPath: file) }) else { return nil }
        let out = server.folder.appendingPathComponent("parsed.json").path
        let parse = try ChildProcess(try #require(peerPython), [try script("parse_mail.py"), file], outputFile: out)
        #expect(await parse.waitForExit(timeout: .seconds(20)) == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        return try JSONSerialization.jsonObject(with: data) as? [String: String]
    }

    func channel(_ server: Server, security: SMTPSecurity, password: String = "pa55 wörd", language: AlertLanguage) -> EmailChannel {
        EmailChannel(name: "email:office", config: EmailConfig(
            server: "smtp://127.0.0.1:\(server.port)", security: security, username: "phasor", caFile: server.cert,
            from: "Phasor <phasor@home.example>", to: ["ops@home.example", "Owner <owner@home.example>"], timeoutS: 15),
            password: password, site: "home", texts: AlertTexts(language))
    }

    @Test func starttlsWithAuthDeliversAReadableFrenchMessage() async throws {
        let folder = try temporaryFolder()
        let server = try await Self.start(mode: "starttls", folder: folder)
        let n = sampleNotification()
        try await channel(server, security: .starttls, language: .fr).deliver(n)
        let mail = try #require(try await received(server))
        _ = await server.process.terminate()
        #expect(mail["authenticated"] == "True")
        #expect(mail["envelope_from"] == "phasor@home.example")
        #expect(mail["envelope_to"] == "ops@home.example,owner@home.example")
        #expect(mail["subject"] == "[ALERTE:2] communication_lost (site home)")
        #expect(mail["from"] == "Phasor <phasor@home.example>")
        #expect(mail["content_type"] == "text/plain" && mail["charset"] == "utf-8" && mail["language"] == "fr")
        let body = try #require(mail["body"])
        #expect(body.contains("En cours:\n  [critique] communication perdue avec cp1 (depuis 2027-01-15T08:00:00Z) — appareil cp1"))
        #expect(body.contains("La mesure et le pilotage ne dépendent jamais des alertes."))
        #expect(mail["message_id"]?.hasPrefix("<\(n.id).email.office@home.example") == true)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func implicitTLSInEnglish() async throws {
        let folder = try temporaryFolder()
        let server = try await Self.start(mode: "tls", folder: folder)
        try await channel(server, security: .tls, language: .en).deliver(sampleNotification())
        let mail = try #require(try await received(server))
        _ = await server.process.terminate()
        #expect(mail["subject"] == "[FIRING:2] communication_lost (site home)")
        #expect(mail["body"]?.contains("Firing:\n  [critical] communication perdue avec cp1") == true)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func aServerThatDoesNotOfferSTARTTLSNeverGetsThePassword() async throws {
        let folder = try temporaryFolder()
        let server = try await Self.start(mode: "plain", folder: folder)
        await #expect(throws: (any Error).self) {
            try await channel(server, security: .starttls, language: .en).deliver(sampleNotification())
        }
        _ = await server.process.terminate()
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("mail/1.eml").path))
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func aWrongPasswordIsAFailure() async throws {
        let folder = try temporaryFolder()
        let server = try await Self.start(mode: "starttls", folder: folder)
        await #expect(throws: (any Error).self) {
            try await channel(server, security: .starttls, password: "wrong", language: .en).deliver(sampleNotification())
        }
        _ = await server.process.terminate()
        try? FileManager.default.removeItem(at: folder)
    }
}
