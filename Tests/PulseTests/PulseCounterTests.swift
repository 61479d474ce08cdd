import Foundation
import PhasorCore
import Testing
@testable import Pulse

@Suite struct PulseCounterTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("pulses-\(UUID().uuidString)").path
    }

    @Test func theCounterIsSavedWithEveryPulseAndLoadedOnRestart() async throws {
        let dir = folder()
        let config = PulseInputConfig(id: "hp", gpio: "/dev/null", line: 0, pulsesPerUnit: 1000, unit: .kwh)
        let store = PulseCounterStore(folder: dir, id: "hp")
        let counter = try PulseCounter(config: config, store: store)
        let source = ManualPulseSource()
        for i in 0..<5 { source.pulse(at: t0 + Double(i)) }
        source.pulse(at: t0 + 4.01)  // bounce
        source.finish()
        for try await edge in source.edges() { _ = try await counter.handle(edge) }
        #expect(await counter.count == 5)
        #expect(await counter.bounces == 1)
        #expect(try store.load() == 5)
        #expect(!FileManager.default.fileExists(atPath: store.path + ".tmp"))

        let restarted = try PulseCounter(config: config, store: store)
        #expect(await restarted.count == 5)
        #expect(await restarted.reading(at: t0 + 10).number(.energyImport) == 0.005)
    }

    @Test func aDamagedCounterFileIsAnErrorNotAZero() throws {
        let dir = folder()
        let store = PulseCounterStore(folder: dir, id: "x")
        try store.createFolder()
        try "garbage".write(toFile: store.path, atomically: true, encoding: .utf8)
        #expect(throws: PulseCounterStore.StoreError.self) { try store.load() }
    }

    @Test func aMissingGPIOChipIsReportedWithItsPath() async throws {
        let config = PulseInputConfig(id: "s0", gpio: "/dev/gpiochip-none", line: 3, pulsesPerUnit: 1000, unit: .kwh)
        do {
            for try await _ in GPIOPulseSource(config: config).edges() {}
            Issue.record("a missing chip gave no error")
        } catch {
            #expect("\(error)".contains("s0: cannot open /dev/gpiochip-none"), "\(error)")
        }
    }

    @Test func linesOfAFIFOArePulsesAtTheTimeTheyName() async throws {
        let path = folder() + ".txt"
        try "1800000000\n1800000002.5\n".write(toFile: path, atomically: true, encoding: .utf8)
        var times: [Date] = []
        for try await edge in LinePulseSource(path: path).edges() { times.append(edge.time) }
        #expect(times == [t0, t0 + 2.5])
    }
}
