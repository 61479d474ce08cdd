import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// `phasor demo --acl-file`: the users' passwords are readable by the user only and
/// gone when the demo stops; the simulated grid meter is physically consistent.
@Suite(.endToEnd) struct DemoHygieneTests {
    @Test func theDemosCredentialsArePrivateAndRemovedAndItsMeterIsConsistent() async throws {
        let port = Loopback.freePort()
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("demo-tmp-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString.prefix(6)).txt").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = temporary.path
        let demo = try ChildProcess(
            executable("phasor"),
            ["demo", "--port", "\(port)", "--duration", "150", "--log-level", "warning",
             "--acl-file", repositoryRoot.appendingPathComponent("deploy/mosquitto/phasor.acl").path],
            environment: environment, outputFile: out)
        defer { demo.terminateBlocking() }

        let client = try await demoOperatorClient(port: port, banner: out)

        // While it runs: one folder of credentials, 0700, its files 0600.
        let folders = try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter { $0.hasPrefix("phasor-credentials-") }
        #expect(folders.count == 1)
        for folder in folders {
            let path = temporary.appendingPathComponent(folder).path
            #expect(try permissions(path) == 0o700)
            let files = try FileManager.default.contentsOfDirectory(atPath: path)
            #expect(Set(files).isSuperset(of: ["gateway", "control", "bridge", "operator", "phasor.passwd"]))
            for file in files { #expect(try permissions("\(path)/\(file)") == 0o600, "\(file)") }
        }

        let meter = try await client.subscribe("phasor/demo/meter/grid/state", qos: .atLeastOnce)
        for _ in 0..<3 {
            let reading = try ReadingPayload.decode(try #require(await meter.next(timeout: .seconds(15))).payload)
            let p = try #require(reading.values[.power]?.number)
            let s = try #require(reading.values[.apparentPower]?.number)
            let q = try #require(reading.values[.reactivePower]?.number)
            #expect(s >= abs(p) - 0.5, "apparent power \(s) VA below real power \(p) W")
            #expect(abs(s * s - (p * p + q * q)) <= max(10, s * s * 1e-4), "S² ≠ P² + Q²: S \(s), P \(p), Q \(q)")
        }
        await client.shutdown()

        // Stopped: nothing of the credentials is left.
        demo.signal(SIGTERM)
        #expect(await demo.waitForExit(timeout: .seconds(20)) == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter { $0.hasPrefix("phasor-credentials-") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    private func permissions(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
