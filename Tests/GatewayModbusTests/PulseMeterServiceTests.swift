import Foundation
import Gateway
import MQTT
import PhasorCore
import PhasorTesting
import Pulse
import Testing
import TestTraits

@Suite(.endToEnd) struct PulseMeterServiceTests {
    @Test func pulsesArePublishedAsAMeterWithTotalAndRate() async throws {
        let clock = ManualWallClock()
        let topics = TopicBuilder(site: uniqueSite())
        let gateway = try await connectedClient()
        let observer = try await connectedClient()
        let states = try await observer.subscribe(topics.meterState("heat_pump"), qos: .atLeastOnce)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pulses-\(UUID().uuidString)").path
        let config = PulseInputConfig(id: "heat_pump", gpio: "/dev/null", line: 0, pulsesPerUnit: 1000, unit: .kwh, initial: 10)
        let counter = try PulseCounter(config: config, store: PulseCounterStore(folder: folder, id: "heat_pump"))
        let source = ManualPulseSource()
        let service = PulseMeterService(counter: counter, source: source, publisher: ReadingPublisher(client: gateway, topics: topics),
                                        clock: clock, refresh: .seconds(3600), logger: quietLogger)
        let running = RunningServices([service])
        defer { running.stop() }

        let start = try ReadingPayload.decode(try #require(await states.next()).payload)
        #expect(start.values[.energyImport]?.number == 10)
        let t0 = clock.now()
        source.pulse(at: t0)
        source.pulse(at: t0 + 1.8)  // 1 Wh in 1.8 s = 2000 W
        clock.advance(by: 1.8)
        let second = try #require(await states.next { m in (try? ReadingPayload.decode(m.payload))?.values[.energyImport]?.number == 10.002 })
        let reading = try ReadingPayload.decode(second.payload)
        #expect(reading.values[.power]?.number == 2000)
        try await expectValid([second.payload], schema: "meter-state.schema.json")
        running.stop()
        await gateway.shutdown()
        await observer.shutdown()
    }
}
