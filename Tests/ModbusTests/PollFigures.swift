import DeviceSimulators
import Foundation
import PhasorCore
import Testing
@testable import Modbus

/// Prints poll round-trip figures; off unless PHASOR_BENCH is set (timing is never asserted):
/// `PHASOR_BENCH=1 swift test --filter PollFigures`
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PHASOR_BENCH"] != nil))
struct PollFigures {
    @Test func pollRoundTripOverTCPAndRTU() async throws {
        let profile = try Fixtures.profile("eastron_sdm630")  // 16 registers in 2 requests (max_gap 10)
        let (simulator, device) = try Fixtures.tcpDevice(profile)
        defer { simulator.stop() }
        let tcp = try await measure(device, polls: 2000)
        let pair = try await SocatPTYPair.start()
        let rtuSimulator = ModbusSimulator()
        try rtuSimulator.add(profile)
        try rtuSimulator.startRTU(device: pair.second)
        let bus = ModbusBus(link: .rtu(device: pair.first, defaultSettings: SerialSettings(baud: 9600)), options: Fixtures.fastOptions)
        let rtuDevice = ModbusDevice(id: "rtu", profile: profile, bus: bus, target: BusTarget(unitID: 1))
        let rtu = try await measure(rtuDevice, polls: 300)
        await bus.close()
        rtuSimulator.stop()
        await pair.stop()
        print("poll round trip, \(profile.id), \(ReadPlan.blocks(for: profile.registers, maxGap: 10).count) requests per poll:")
        print("  TCP loopback: median \(tcp.median) µs, p99 \(tcp.p99) µs")
        print("  RTU socat pty: median \(rtu.median) µs, p99 \(rtu.p99) µs")
        #expect(tcp.median > 0 && rtu.median > 0)
    }

    private func measure(_ device: ModbusDevice, polls: Int) async throws -> (median: Int, p99: Int) {
        var samples: [Int] = []
        for _ in 0..<polls {
            let start = ContinuousClock.now
            _ = try await device.poll(groups: device.allGroups)
            let elapsed = ContinuousClock.now - start
            samples.append(Int(elapsed.components.attoseconds / 1_000_000_000_000) + Int(elapsed.components.seconds) * 1_000_000)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[samples.count * 99 / 100])
    }
}
