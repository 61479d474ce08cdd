import Foundation
import PhasorTesting
import Testing
import TestTraits

/// The cloud side at fleet scale, small: simulated site bridges → mosquitto → two
/// `phasor-cloud-consumer` processes (a shared subscription) → a real PostgreSQL; one
/// consumer is killed -9 half-way. The benchmark executable checks loss, holes and
/// per-stream order itself and exits 1 on any; here it runs small and quick.
@Suite("Fleet", .serialized, .endToEnd) struct FleetTests {
    @Test(.enabled(if: PostgresServer.isAvailable, "needs Debian's postgresql (scripts/lib/deps.sh installs it)"),
          .timeLimit(.minutes(3)))
    func consumersWriteEverySitesMessagesToPostgreSQLOnceAndInOrderWhenOneIsKilled() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-fleet-test-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("fleet.log").path
        let run = try ChildProcess(
            BuiltExecutables.path("phasor-bench-fleet"),
            ["--sites", "20", "--rate", "20", "--seconds", "4", "--consumers", "2", "--kill-consumer"], outputFile: output)
        let status = await run.waitForExit(timeout: .seconds(170))
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(text.suffix(2000))")
        #expect(text.contains("loss 0, streams with holes 0, out-of-order rows 0"), "\(text.suffix(2000))")
        #expect(text.contains("fleet: ok"))
    }
}
