import Foundation
import PhasorCore
import Testing
@testable import Pulse

@Suite struct PulseMeterTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func bounceWithinTheIntervalIsNotCounted() {
        var debouncer = Debouncer(interval: 0.030)
        let accepted = [0, 0.002, 0.029, 0.031].map { debouncer.accept(t0 + $0) }
        #expect(accepted == [true, false, false, true])
        #expect(debouncer.rejected == 2)
    }

    @Test func energyTotalAndPowerFromTheIntervalBetweenPulses() {
        let config = PulseInputConfig(id: "hp", gpio: "/dev/null", line: 0, pulsesPerUnit: 1000, unit: .kwh, initial: 100)
        var meter = PulseMeter(config: config)
        #expect(meter.rate(at: t0) == 0)
        meter.record(at: t0)
        #expect(meter.rate(at: t0 + 1) == 0)  // one pulse says nothing about the rate
        meter.record(at: t0 + 3.6)  // 1 Wh in 3.6 s = 1000 W
        #expect(abs(meter.rate(at: t0 + 3.6) - 1000) < 1e-4)
        #expect(abs(meter.total - 100.002) < 1e-12)
        let reading = meter.reading(at: t0 + 3.6)
        #expect(reading.number(.energyImport) == 100.002)
        #expect(reading.number(.power) == 1000)
    }

    @Test func theRateDecaysWhenPulsesStopAndReadsZeroAfterTheLimit() {
        var config = PulseInputConfig(id: "hp", gpio: "/dev/null", line: 0, pulsesPerUnit: 1000, unit: .kwh)
        config.zeroAfterS = 60
        var meter = PulseMeter(config: config)
        meter.record(at: t0)
        meter.record(at: t0 + 3.6)
        #expect(abs(meter.rate(at: t0 + 5) - 1000) < 1e-4)  // within the last interval: unchanged
        #expect(abs(meter.rate(at: t0 + 3.6 + 7.2) - 500) < 1e-4)  // at most one pulse in 7.2 s
        #expect(abs(meter.rate(at: t0 + 3.6 + 36) - 100) < 1e-4)
        #expect(meter.rate(at: t0 + 3.6 + 60) == 0)
    }

    @Test func volumesInCubicMetresAndLitresWithFlowInCubicMetresPerHour() {
        var gas = PulseMeter(config: PulseInputConfig(id: "gas", gpio: "/dev/null", line: 0, pulsesPerUnit: 100, unit: .m3,
                                                      initial: 1234.5))
        gas.record(at: t0)
        gas.record(at: t0 + 36)  // 0.01 m³ in 36 s = 1 m³/h
        #expect(abs(gas.total - 1234.52) < 1e-9)
        #expect(abs(gas.rate(at: t0 + 36) - 1) < 1e-9)
        #expect(gas.reading(at: t0 + 36).number(.gasVolume) == 1234.52)

        var water = PulseMeter(config: PulseInputConfig(id: "water", gpio: "/dev/null", line: 0, pulsesPerUnit: 1, unit: .l))
        water.record(at: t0)
        water.record(at: t0 + 6)  // 1 L in 6 s = 0.6 m³/h
        #expect(abs(water.total - 0.002) < 1e-12)
        #expect(abs(water.rate(at: t0 + 6) - 0.6) < 1e-9)
        #expect(water.reading(at: t0 + 6).number(.flowRate) == 0.6)
        #expect(water.reading(at: t0 + 6).number(.waterVolume) == 0.002)
    }

    @Test func configurationMistakesAreNamed() {
        var bad = PulseInputConfig(id: "x", gpio: "/dev/gpiochip0", line: 1, pulsesPerUnit: 0, unit: .kwh)
        #expect(throws: ConfigError.self) { try PulseSection(inputs: [bad]).validate() }
        bad.pulsesPerUnit = 1000
        bad.quantity = "gas_volume"
        #expect { try PulseSection(inputs: [bad]).validate() } throws: { "\($0)".contains("not counted in kWh") }
        let ok = PulseInputConfig(id: "x", gpio: "/dev/gpiochip0", line: 1, pulsesPerUnit: 1000, unit: .kwh)
        #expect { try PulseSection(inputs: [ok, ok]).validate() } throws: { "\($0)".contains("duplicate input id 'x'") }
    }
}
