import Foundation
import MeterIO
import PhasorCore
import PhasorTesting
import Testing

/// phasor-gateway as a user starts it: `--p1 tcp://…`, no site file.
@Suite struct GatewayProcessTests {
    private static let binDirectory: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }()

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
}
