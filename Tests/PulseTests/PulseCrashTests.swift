import Foundation
import PhasorTesting
import Pulse
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// The persisted counter against `kill -9`: `phasor pulses watch` counts pulses
/// from a FIFO the test writes to, acknowledging each only after saving it.
@Suite(.endToEnd) struct PulseCrashTests {
    static let phasor = BuiltExecutables.path("phasor")

    /// A running `phasor pulses watch` and the write end of its FIFO.
    struct Watcher {
        let process: ChildProcess
        let writer: Int32
        let output: String

        static func start(fifo: String, state: String, output: String) async throws -> Watcher {
            try? FileManager.default.removeItem(atPath: output)
            let process = try ChildProcess(PulseCrashTests.phasor, [
                "pulses", "watch", "--id", "meter", "--fifo", fifo, "--state-folder", state, "--pulses-per-unit", "1000",
                "--debounce-ms", "30",
            ], outputFile: output)
            // Opening the write end without blocking succeeds once the child opened the read end.
            var fd: Int32 = -1
            for _ in 0..<500 where fd < 0 {
                fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                if fd < 0 { try await Task.sleep(for: .milliseconds(10)) }
            }
            try #require(fd >= 0, "phasor pulses watch did not open the FIFO")
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            return Watcher(process: process, writer: fd, output: output)
        }

        func send(_ times: [Double]) {
            let text = times.map { "\($0)\n" }.joined()
            _ = text.utf8CString.withUnsafeBufferPointer { write(writer, $0.baseAddress, $0.count - 1) }
        }

        var lines: [String] {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        /// The highest count acknowledged ("pulse N …", printed after saving).
        var acknowledged: UInt64 {
            lines.compactMap { line in line.hasPrefix("pulse ") ? UInt64(line.split(separator: " ")[1]) : nil }.max() ?? 0
        }

        func waitForAcknowledged(_ count: UInt64) async -> Bool {
            for _ in 0..<1000 {
                if acknowledged >= count { return true }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return false
        }

        /// SIGKILL: no handler, no flush, no goodbye.
        func kill9() async {
            process.signal(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(10))
            close(writer)
        }
    }

    @Test func aCounterKilledWithSIGKILLNeitherLosesNorDoubleCountsPulses() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("s0.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let state = dir.appendingPathComponent("state").path
        let output = dir.appendingPathComponent("out.txt").path
        let store = PulseCounterStore(folder: state, id: "meter")
        var time = 1_800_000_000.0
        func times(_ n: Int) -> [Double] { (0..<n).map { _ in time += 1; return time } }

        // 1. One pulse at a time, each acknowledged; killed while idle: nothing lost.
        var watcher = try await Watcher.start(fifo: fifo, state: state, output: output)
        for i in 1...20 {
            watcher.send(times(1))
            #expect(await watcher.waitForAcknowledged(UInt64(i)))
        }
        await watcher.kill9()
        #expect(try store.load() == 20)

        // 2. A burst, killed mid-stream: the file is whole and holds every acknowledged
        //    pulse, plus at most the one being saved when the kill came.
        watcher = try await Watcher.start(fifo: fifo, state: state, output: output)
        #expect(watcher.lines.first == nil || watcher.lines.first == "meter: 20 pulses saved")
        // 4000 lines (52 kB) fit in the FIFO's 64 kB without blocking us, and take the
        // watcher seconds to save one by one: the kill lands mid-stream even when this
        // test is slowed by a loaded machine (400 once finished first).
        watcher.send(times(4000))
        #expect(await watcher.waitForAcknowledged(60))
        await watcher.kill9()
        let acknowledged = watcher.acknowledged
        let saved = try store.load()
        #expect(saved >= acknowledged && saved <= acknowledged + 1, "saved \(saved), acknowledged \(acknowledged)")
        #expect(saved < 4020, "the kill came mid-stream")

        // 3. Restarted: it starts from the saved count (not replayed) and counts on.
        watcher = try await Watcher.start(fifo: fifo, state: state, output: output)
        watcher.send(times(5))
        #expect(await watcher.waitForAcknowledged(saved + 5))
        #expect(watcher.lines.first == "meter: \(saved) pulses saved")
        #expect(watcher.acknowledged == saved + 5)
        await watcher.kill9()
        #expect(try store.load() == saved + 5)
    }
}
