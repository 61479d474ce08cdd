import Foundation
import MeterIO
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// phasor-gateway as a user starts it: `--p1 tcp://…`, no site file.
@Suite(.endToEnd) struct GatewayProcessTests {
    private static let binDirectory = BuiltExecutables.directory

    @Test func quickStartWithP1FlagPublishesTheDonglesTelegrams() async throws {
        let port = try await SharedBroker.port()
        let dongle = try makeDongle()
        let site = uniqueSite()
        let topics = TopicBuilder(site: site)
        let watcher = try await connectedClient(port: port)
        let inbox = Inbox(try await watcher.subscribe(topics.all, qos: .atLeastOnce))
        let gateway = try ChildProcess(
            Self.binDirectory.appendingPathComponent("phasor-gateway").path,
            ["--broker", "mqtt://127.0.0.1:\(port)", "--site", site, "--log-level", "warning",
             "--p1", "tcp://127.0.0.1:\(dongle.port)"])
        #expect(await waitForClients(dongle))
        dongle.broadcast(try Fixtures.bytes("dsmr5-belgium-fluvius-v171-dsmrparser.txt"))
        let state = await inbox.next(on: topics.meterState("p1"))
        #expect(state.flatMap { try? ReadingPayload.decode($0.payload).values.number("energy_import_t2") } == 15.758)
        #expect(inbox.on(topics.meterState("grid")).isEmpty, "with a meter configured the demo meter does not run")
        #expect(await gateway.terminate() == 0)
        dongle.stop()
        await watcher.shutdown()
    }

    @Test func configCheckRefusesAMeterTheGatewayWouldRefuse() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meters-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("site.yaml").path
        let out = dir.appendingPathComponent("out.txt").path
        let phasor = Self.binDirectory.appendingPathComponent("phasor").path
        try "site: home\nmeters:\n  - {id: p1, type: p1, source: \"tcp://dongle\"}\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(await (try ChildProcess(phasor, ["config", "check", file], outputFile: out)).waitForExit() == 2)
        let lines = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("\(file):3: meters.p1: source 'tcp://dongle'"), "\(lines)")

        try "site: home\nmeters:\n  - {id: p1, type: p1, source: \"tcp://dongle:8088\"}\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(await (try ChildProcess(phasor, ["config", "check", file], outputFile: out)).waitForExit() == 0)
    }
}
