import Foundation

/// A throw-away certificate authority and a server certificate for 127.0.0.1 and
/// localhost, made with the openssl command line, for TLS tests.
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caFile: String { directory.appendingPathComponent("ca.crt").path }
    public var serverCertificate: String { directory.appendingPathComponent("server.crt").path }
    public var serverKey: String { directory.appendingPathComponent("server.key").path }

    public static func generate(commonName: String = "Phasor Test CA") async throws -> TestCertificates {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let d = dir.path
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: "\(d)/san.ext", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(commonName)",
             "-keyout", "\(d)/ca.key", "-out", "\(d)/ca.crt"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "\(d)/server.key",
             "-out", "\(d)/server.csr"],
            ["x509", "-req", "-in", "\(d)/server.csr", "-CA", "\(d)/ca.crt", "-CAkey", "\(d)/ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "\(d)/san.ext", "-out", "\(d)/server.crt"],
        ]
        for args in steps {
            let p = try ChildProcess("openssl", args, outputFile: "\(d)/openssl.log")
            guard await p.waitForExit(timeout: .seconds(30)) == 0 else {
                let log = (try? String(contentsOfFile: "\(d)/openssl.log", encoding: .utf8)) ?? ""
                throw ChildProcessError.notReady("openssl \(args[0]) failed: \(log.suffix(400))")
            }
        }
        return TestCertificates(directory: dir)
    }
}
