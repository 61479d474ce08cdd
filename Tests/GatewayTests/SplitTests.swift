import Foundation
import Gateway
import MeterIO
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// The P1 split: every telegram as received, to any number of TCP clients.
@Suite(.serialized, .endToEnd) struct SplitTests {
    private func meter(dongle: FanOutServer, splitPort: Int) -> MeterConfiguration {
        MeterConfiguration(id: "p1", type: .p1, source: "tcp://127.0.0.1:\(dongle.port)", splitPort: splitPort)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["PHASOR_PYTHON"] != nil, "needs PHASOR_PYTHON (scripts/test.sh sets it)"))
    func dsmrParsersOwnSocketReaderParsesWhatThePortPassesOn() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["PHASOR_PYTHON"])
        let dongle = try makeDongle()
        let splitPort = Loopback.freePort()
        let h = try await MeterHarness(meter(dongle: dongle, splitPort: splitPort))
        // The split is opened beside the source, retried if its port is busy: wait for it.
        #expect(await eventually { h.service.split != nil })
        let split = try #require(h.service.split)
        #expect(await waitForClients(dongle))

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("split-\(UUID().uuidString.prefix(8)).txt").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let reader = try ChildProcess(python, [try Fixtures.scriptPath("dsmr_split_reader.py"), "127.0.0.1", "\(splitPort)", "3"], outputFile: out)
        // Python imports dsmr_parser first: seconds on a loaded machine.
        #expect(await eventually(timeout: .seconds(45)) { split.statistics.connectedClients == 1 }, "dsmr_parser connected")

        let base = try Fixtures.bytes("dsmr50-iskra-am550-real-basjes.txt")
        let values = ["00.433", "01.500", "02.750"]
        for v in values {
            dongle.broadcast(P1TelegramEditing.replacing("1-0:1.7.0(00.433*kW)", with: "1-0:1.7.0(\(v)*kW)", in: base))
        }
        #expect(await reader.waitForExit(timeout: .seconds(30)) == 0)
        let lines = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.hasPrefix("{") }
        let parsed = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        #expect(parsed.map { $0["power_import_kw"] } == ["0.433", "1.500", "2.750"])
        #expect(parsed.allSatisfy { $0["energy_import_t1_kwh"] == "3432.829" })
        dongle.stop()
        await h.stop()
    }

    /// The split streams a household's readings without authentication: it listens on
    /// this machine only unless `split_bind` opens it (the address is the kernel's,
    /// read back with getsockname).
    @Test func theSplitListensOnLoopbackUnlessSplitBindSaysOtherwise() async throws {
        let dongle = try makeDongle()
        for bind in [nil, "0.0.0.0"] as [String?] {
            var config = meter(dongle: dongle, splitPort: Loopback.freePort())
            config.splitBind = bind
            let h = try await MeterHarness(config)
            #expect(await eventually { h.service.split != nil })
            #expect(h.service.split?.address == bind ?? "127.0.0.1")
            await h.stop()
        }
        dongle.stop()
    }

    @Test func aClientThatNeverReadsIsDroppedAndDoesNotDelayPublishing() async throws {
        let dongle = try makeDongle()
        let splitPort = Loopback.freePort()
        let h = try await MeterHarness(meter(dongle: dongle, splitPort: splitPort))
        // The split is opened beside the source, retried if its port is busy: wait for it.
        #expect(await eventually { h.service.split != nil })
        let split = try #require(h.service.split)
        #expect(await waitForClients(dongle))
        let stuck = try connectWithoutReading(port: splitPort)
        defer { close(stuck) }
        #expect(await eventually { split.statistics.connectedClients == 1 })

        // ~780 kB: twice what the split holds for a client (256 kB buffer, 64 kB socket
        // send buffer, doubled by the kernel) plus the stuck client's 4 kB window.
        let base = try Fixtures.bytes("dsmr50-iskra-am550-real-basjes.txt")
        let count = 1000
        let started = ContinuousClock.now
        for _ in 0..<(count - 1) { dongle.broadcast(base) }
        dongle.broadcast(P1TelegramEditing.replacing("1-0:1.7.0(00.433*kW)", with: "1-0:1.7.0(01.234*kW)", in: base))
        #expect(await h.state(timeout: .seconds(30), where: { $0.number("power_import") == 1234 }) != nil)
        let elapsed = started.duration(to: .now)
        #expect(h.inbox.on(h.topics.meterState("p1")).count == count, "every telegram published")
        #expect(split.statistics.droppedSlowClients == 1)
        #expect(split.statistics.connectedClients == 0)
        let stats = await h.statistics { ($0["split_dropped_clients"] as? Int) == 1 }
        #expect(stats?["telegrams_ok"] as? Int == count)
        print("slow split client: \(count) telegrams published in \(elapsed)")
        dongle.stop()
        await h.stop()
    }

    /// A TCP client with a tiny receive buffer that never reads.
    private func connectWithoutReading(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw ChildProcessError.notReady("connect to split port \(port): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}
