import DeviceSimulators
import Foundation
import PhasorCore
import Testing
@testable import Modbus

@Suite struct ErrorCaseTests {
    @Test func readingOutsideTheMapIsAnIllegalAddressException() async throws {
        let profile = try Fixtures.profile("eastron_sdm630")
        let (simulator, device) = try Fixtures.tcpDevice(profile)
        defer { simulator.stop() }
        await #expect(throws: ModbusError.exception(.illegalDataAddress)) {
            try await device.read(.inputRegisters, address: 5000, count: 2)
        }
        await #expect(throws: ModbusError.exception(.illegalDataAddress)) {
            try await device.read(.holdingRegisters, address: 0, count: 2)  // SDM630 readings are input registers
        }
        #expect(ModbusError.exception(.illegalDataAddress).description == "exception 2: illegal data address")
        let stats = await device.health.statistics
        #expect(stats.requests == 2 && stats.errors == 2 && stats.exceptions == 2 && stats.timeouts == 0)
        // The device answered: it is still reachable.
        _ = try await device.poll(groups: device.allGroups)
        #expect(await device.health.availability == .online)
    }

    @Test func silentDeviceTimesOutAndGoesOfflineAfterNFailures() async throws {
        let profile = try Fixtures.profile("siemens_pac2200")
        let options = BusOptions(responseTimeout: ModbusTimeout(milliseconds: 100), retry: .none)
        let clock = ManualWallClock()
        let (simulator, device) = try Fixtures.tcpDevice(profile, clock: clock, options: options, offlineAfter: 2)
        defer { simulator.stop() }
        _ = try await device.poll()
        #expect(await device.health.availability == .online)
        let lastSuccess = clock.now()
        simulator.setResponding(1, false)
        clock.advance(by: 5)
        await #expect(throws: ModbusError.timeout) { try await device.poll(groups: device.allGroups) }
        #expect(await device.health.availability == .online)  // one failure is not enough
        await #expect(throws: ModbusError.timeout) { try await device.poll(groups: device.allGroups) }
        let health = await device.health
        #expect(health.availability == .offline)
        #expect(health.consecutiveFailures == 2)
        #expect(health.statistics.timeouts == 2)  // one per poll: the other blocks are skipped
        #expect(health.statistics.lastSuccessAge(now: clock.now()) == clock.now().timeIntervalSince(lastSuccess))
        simulator.setResponding(1, true)
        _ = try await device.poll(groups: device.allGroups)
        #expect(await device.health.availability == .online)
    }

    @Test func stoppedServerRefusesAndTheDeviceGoesOffline() async throws {
        let profile = try Fixtures.profile("sungrow_shx")
        let (simulator, device) = try Fixtures.tcpDevice(profile, offlineAfter: 1)
        _ = try await device.poll()
        simulator.stop()
        do {
            _ = try await device.poll(groups: device.allGroups)
            Issue.record("poll of a stopped server succeeded")
        } catch {
            switch error {
            case .connectionRefused, .io, .timeout: break
            default: Issue.record("unexpected \(error)")
            }
        }
        #expect(await device.health.availability == .offline)
    }

    @Test func nothingListeningIsConnectionRefused() async throws {
        let simulator = ModbusSimulator()
        let port = try simulator.startTCP()  // find a free port, then free it
        simulator.stop()
        let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: Fixtures.fastOptions)
        await #expect(throws: ModbusError.connectionRefused(endpoint: "127.0.0.1:\(port)")) {
            try await bus.readRegisters(.holdingRegisters, address: 0, count: 1, target: BusTarget(unitID: 1))
        }
    }

    @Test func retriesWithBackoffRecoverFromATransientSilence() async throws {
        let profile = try Fixtures.profile("eastron_sdm120")
        let options = BusOptions(responseTimeout: ModbusTimeout(milliseconds: 80),
                                 retry: RetryPolicy(attempts: 3, initialBackoff: .milliseconds(100)))
        let (simulator, device) = try Fixtures.tcpDevice(profile, options: options)
        defer { simulator.stop() }
        simulator.ignoreNextRequests(1, count: 2)
        let started = ContinuousClock.now
        let words = try await device.read(.inputRegisters, address: 0x0C, count: 2)
        // Two timeouts (80 ms) and two backoffs (100 ms, then 200 ms) before the answer.
        #expect(ContinuousClock.now - started >= .milliseconds(460))
        #expect(await device.health.statistics.errors == 0)  // retries are inside one request
        #expect(words.count == 2)
        #expect(RetryPolicy(attempts: 4, initialBackoff: .milliseconds(50), multiplier: 2, maxBackoff: .milliseconds(150))
            .backoff(beforeRetry: 3) == .milliseconds(150))
    }

    @Test func connectDelayAndInterFrameDelayAreHonoured() async throws {
        let profile = try Fixtures.profile("huawei_sun2000")
        let options = BusOptions(responseTimeout: ModbusTimeout(milliseconds: 300), retry: .none,
                                 interFrameDelay: .milliseconds(60), connectDelay: .milliseconds(150))
        let (simulator, device) = try Fixtures.tcpDevice(profile, options: options)
        defer { simulator.stop() }
        // Both requests are queued at once: the second one waits on the bus thread, right
        // behind the first, so only the inter-frame delay separates them.
        let start = ContinuousClock.now
        async let a = device.bus.readRegisters(.holdingRegisters, address: 37760, count: 1, target: device.target)
        async let b = device.bus.readRegisters(.holdingRegisters, address: 37765, count: 2, target: device.target)
        _ = try await (a, b)
        #expect(ContinuousClock.now - start >= .milliseconds(210))  // 150 ms after connecting + 60 ms between frames
    }

    @Test func closedBusRefusesRequests() async throws {
        let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: 1), options: Fixtures.fastOptions)
        await bus.close()
        await #expect(throws: ModbusError.closed) {
            try await bus.readRegisters(.holdingRegisters, address: 0, count: 1, target: BusTarget(unitID: 1))
        }
    }

    @Test func impossibleRequestsAreRefusedBeforeTheWire() async throws {
        let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: 1), options: Fixtures.fastOptions)
        defer { Task { await bus.close() } }
        await #expect(throws: ModbusError.invalidRequest("cannot read 126 registers at 0")) {
            try await bus.readRegisters(.holdingRegisters, address: 0, count: 126, target: BusTarget(unitID: 1))
        }
    }

    @Test func timeoutsCarryMicroseconds() {
        let t = ModbusTimeout(milliseconds: 1500)
        #expect(t.seconds == 1 && t.microseconds == 500_000)
        #expect(ModbusTimeout(seconds: 0, microseconds: 2_500_000) == ModbusTimeout(seconds: 2, microseconds: 500_000))
    }
}
