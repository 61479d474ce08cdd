@testable import DeviceSimulators
import Foundation
import PhasorCore
import Testing
@testable import Modbus

/// Bad input must never crash: random words, random byte streams, broken profiles.
@Suite struct RobustnessTests {
    /// A small deterministic generator (SplitMix64) so failures reproduce.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func integerRegistersRoundTripForRandomWords() {
        var rng = Seeded(state: 42)
        for type in DataType.allCases where !type.isFloat && type != .ascii && type != .bool {
            for order in WordOrder.allCases {
                for _ in 0..<500 {
                    let words = (0..<(type.words ?? 1)).map { _ in UInt16.random(in: 0...UInt16.max, using: &rng) }
                    let value = RegisterCodec.decode(words, type: type, order: order)
                    // 64-bit values beyond 2^53 lose precision in a Double; compare only exact ones.
                    if let value, abs(value) < 9_007_199_254_740_992 {
                        #expect(RegisterCodec.encode(value, type: type, order: order) == words, "\(type) \(order) \(words)")
                    }
                }
            }
        }
    }

    @Test func randomWordsNeverCrashDecoding() {
        var rng = Seeded(state: 7)
        for _ in 0..<2000 {
            let count = Int.random(in: 0...6, using: &rng)
            let words = (0..<count).map { _ in UInt16.random(in: 0...UInt16.max, using: &rng) }
            for type in DataType.allCases {
                let order = WordOrder.allCases.randomElement(using: &rng) ?? .abcd
                _ = RegisterCodec.decode(words, type: type, order: order)
                _ = RegisterCodec.isNotAvailable(words, type: type, order: order)
                _ = RegisterCodec.decodeText(words, order: order)
            }
        }
    }

    @Test func randomByteStreamsNeverCrashRTUFraming() {
        var rng = Seeded(state: 99)
        for _ in 0..<500 {
            var buffer = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var frames = 0
            while let frame = RTUFraming.nextRequest(&buffer) {
                frames += 1
                #expect(frame.count >= 8)
            }
            #expect(buffer.count < 300)
        }
    }

    @Test(arguments: [
        "", "id: [", "kind: meter", "registers: 7", "- a\n- b",
        "id: x\nkind: toaster\nmanufacturer: a\nmodel: b\nconfidence: confirmed\nconnection: {transports: [tcp], unit_id: 1}\nregisters: []",
        "id: x\nkind: meter\nmanufacturer: a\nmodel: b\nconfidence: confirmed\nconnection: {transports: [tcp], unit_id: 300}\nregisters: []",
        "id: x\nkind: charger\nmanufacturer: a\nmodel: b\nconfidence: confirmed\nconnection: {transports: [tcp], unit_id: 1}\nregisters: []",
        "id: x\nkind: charger\nmanufacturer: a\nmodel: b\nconfidence: confirmed\nconnection: {transports: [tcp], unit_id: 1}\nregisters: []\ncharger: {min_current: 6, max_current: 16, safe_current: 6, state: {register: {address: 1}, map: {}}, current_limit: {address: 2, function: 4, write_function: 6}}",
        "id: x\nkind: charger\nmanufacturer: a\nmodel: b\nconfidence: confirmed\nconnection: {transports: [tcp], unit_id: 1}\nregisters: []\ncharger: {min_current: 6, max_current: 16, safe_current: 6, state: {register: {address: 1}, map: {}}, current_limit: {address: 2, write_function: 6, type: float32}}",
        "id: x\nkind: charger\nmanufacturer: a\nmodel: b\nconfidence: confirmed\nconnection: {transports: [tcp], unit_id: 1}\nregisters: []\ncharger: {min_current: 6, max_current: 16, safe_current: 6, state: {register: {address: 1}, map: {}}, current_limit: {address: 2, write_function: 6}, watchdog: {interval_s: 10, timeout_s: 5}}",
    ])
    func brokenProfilesAreErrorsNotCrashes(yaml: String) {
        #expect(throws: ConfigError.self) { try ProfileLibrary.parseProfile(yaml: yaml, file: "broken.yaml") }
    }

    @Test func missingSerialDeviceIsAConnectionError() async {
        let bus = ModbusBus(link: .rtu(device: "/nonexistent/ttyPhasor", defaultSettings: SerialSettings()), options: Fixtures.fastOptions)
        do {
            _ = try await bus.readRegisters(.holdingRegisters, address: 0, count: 1, target: BusTarget(unitID: 1))
            Issue.record("a read on a missing serial device succeeded")
        } catch {
            guard case .connectionFailed(let endpoint, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(endpoint.hasPrefix("/nonexistent/ttyPhasor"))
        }
        await bus.close()
    }
}
