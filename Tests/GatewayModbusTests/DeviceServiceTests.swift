import DeviceSimulators
import Foundation
import Gateway
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

/// Meters and inverters through the gateway's device service, against the
/// simulator (TCP and RTU over a socat pty) and a real mosquitto.
@Suite(.endToEnd) struct DeviceServiceTests {
    struct Rig {
        let clock = ManualWallClock()
        let topics = TopicBuilder(site: uniqueSite())
        let simulator: ModbusSimulator
        let gateway: MQTTClient
        let observer: MQTTClient

        init() async throws {
            simulator = ModbusSimulator(clock: clock)
            gateway = try await connectedClient()
            observer = try await connectedClient()
        }

        func service(_ device: ModbusDevice) -> ModbusDeviceService {
            ModbusDeviceService(device: device, publisher: ReadingPublisher(client: gateway, topics: topics), clock: clock,
                                tick: .milliseconds(20), logger: quietLogger)
        }

        /// A simulated Siemens PAC2200 (unit 1) served over TCP, as a device on the rig's clock.
        func pac2200OverTCP(id: String) throws -> ModbusDevice {
            let meter = try profile("siemens_pac2200")
            try simulator.add(meter)
            let port = try simulator.startTCP()
            let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
            return ModbusDevice(id: id, profile: meter, bus: bus, target: BusTarget(unitID: 1), clock: clock)
        }

        func shutdown() async {
            simulator.stop()
            await gateway.shutdown()
            await observer.shutdown()
        }
    }

    @Test func meterValuesAvailabilityAndStatsArePublishedOverTCP() async throws {
        let rig = try await Rig()
        let device = try rig.pac2200OverTCP(id: "grid")
        let states = try await rig.observer.subscribe(rig.topics.meterState("grid"), qos: .atLeastOnce)
        let availability = try await rig.observer.subscribe(rig.topics.deviceAvailability("grid"), qos: .atLeastOnce)
        let stats = try await rig.observer.subscribe(rig.topics.deviceStats("grid"), qos: .atLeastOnce)
        let running = RunningServices([rig.service(device)])
        defer { running.stop() }

        let state = try #require(await states.next())
        let reading = try ReadingPayload.decode(state.payload)
        let model = rig.simulator.values(unitID: 1)
        for register in device.profile.registers {
            let published = try #require(reading.values[register.quantity]?.number, "\(register.quantity) published")
            let expected = try #require(model[register.quantity])
            #expect(abs(published - expected) <= abs(expected) * 1e-6 + 1e-9, "\(register.quantity)")
        }
        let online = try #require(await availability.next())
        #expect(online.string == "online")
        let statsMessage = try #require(await stats.next())
        let statsObject = try json(statsMessage)
        #expect(statsObject["availability"] as? String == "online")
        #expect((statsObject["requests"] as? Int ?? 0) >= 1)
        #expect(statsObject["errors"] as? Int == 0)
        #expect(statsObject["last_success_age_s"] as? Double == 0)

        // A late subscriber gets the retained state and availability.
        let late = try await connectedClient()
        let retained = try await late.subscribe(rig.topics.deviceAvailability("grid"), qos: .atLeastOnce)
        let again = try #require(await retained.next())
        #expect(again.retain && again.string == "online")
        await late.shutdown()

        try await expectValid([state.payload], schema: "meter-state.schema.json")
        try await expectValid([statsMessage.payload], schema: "device-stats.schema.json")
        await rig.shutdown()
    }

    @Test func aDeviceThatStopsAnsweringGoesOfflineAfterItsFailedPollsAndComesBackByItself() async throws {
        let rig = try await Rig()
        let meter = try profile("siemens_pac2200")
        try rig.simulator.add(meter)
        let port = try rig.simulator.startTCP()
        let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
        let device = ModbusDevice(id: "pac", profile: meter, bus: bus, target: BusTarget(unitID: 1), offlineAfter: 2,
                                  clock: rig.clock)
        let availability = try await rig.observer.subscribe(rig.topics.deviceAvailability("pac"), qos: .atLeastOnce)
        let stats = try await rig.observer.subscribe(rig.topics.deviceStats("pac"), qos: .atLeastOnce)
        let running = RunningServices([rig.service(device)])
        defer { running.stop() }
        #expect(await availability.next()?.string == "online")

        rig.simulator.setResponding(1, false)
        let pump = ClockPump(rig.clock, step: 2)  // one poll interval of the profile per step
        let offline = await availability.next(timeout: .seconds(15))
        #expect(offline?.string == "offline")
        // Offline exactly when the configured number of polls had failed, each after one timeout.
        let atOffline = try json(await stats.next { (try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any])?["availability"] as? String == "offline" })
        #expect(atOffline["failed_polls"] as? Int == 2)
        #expect((atOffline["timeouts"] as? Int ?? 0) >= 2)

        rig.simulator.setResponding(1, true)
        #expect(await availability.next(timeout: .seconds(15))?.string == "online")
        pump.stop()
        await rig.shutdown()
    }

    /// The chaos soak stepped the services' wall clock back by minutes: every device's
    /// polling stopped until the clock caught up (its last poll lay in the future), so a
    /// device that then went silent was never reported offline.
    @Test func aWallClockSteppedBackDoesNotStopThePolling() async throws {
        let rig = try await Rig()
        let device = try rig.pac2200OverTCP(id: "pac")
        let states = try await rig.observer.subscribe(rig.topics.meterState("pac"), qos: .atLeastOnce)
        let running = RunningServices([rig.service(device)])
        defer { running.stop() }
        #expect(await states.next(timeout: .seconds(10)) != nil)

        rig.simulator.override(unitID: 1, .power, 4321)
        rig.clock.advance(by: -600)
        let after = await states.next(timeout: .seconds(10)) { message in
            (try? ReadingPayload.decode(message.payload))?.values[.power]?.number == 4321
        }
        #expect(after != nil, "polled again after the clock went back 600 s")
        await rig.shutdown()
    }

    @Test func aSilentRTUDeviceDelaysItsNeighbourOnlyByItsOwnTimeout() async throws {
        let rig = try await Rig()
        let pair = try await SocatPTYPair.start()
        let sdm630 = try profile("eastron_sdm630")
        let sdm120 = try profile("eastron_sdm120")
        try rig.simulator.add(sdm630, unitID: 1)
        try rig.simulator.add(sdm120, unitID: 2)
        try rig.simulator.startRTU(device: pair.second)
        // A 1 s timeout, so "waited for the one exchange in progress" (≤ 1 s plus its own
        // exchange) stays far from "waited for the neighbour's whole poll" (≥ 2 s) even on
        // a loaded machine.
        let timeout = 1000
        let bus = ModbusBus(link: .rtu(device: pair.first, defaultSettings: SerialSettings(baud: 9600)),
                            options: BusOptions(responseTimeout: ModbusTimeout(milliseconds: timeout), retry: .none))
        let healthy = ModbusDevice(id: "main", profile: sdm630, bus: bus,
                                   target: BusTarget(unitID: 1, serial: sdm630.profile.connection.serial), clock: rig.clock)
        let silent = ModbusDevice(id: "sub", profile: sdm120, bus: bus,
                                  target: BusTarget(unitID: 2, serial: sdm120.profile.connection.serial), offlineAfter: 1,
                                  clock: rig.clock)
        rig.simulator.setResponding(2, false)
        let states = try await rig.observer.subscribe(rig.topics.meterState("main"), qos: .atLeastOnce)
        let subAvailability = try await rig.observer.subscribe(rig.topics.deviceAvailability("sub"), qos: .atLeastOnce)
        let running = RunningServices([rig.service(healthy), rig.service(silent)])
        defer { running.stop() }
        let pump = ClockPump(rig.clock, step: 2)

        #expect(await subAvailability.next(timeout: .seconds(10))?.string == "offline")
        // The healthy meter keeps publishing; none of its polls waited more than one
        // timeout of its silent neighbour plus its own exchange.
        var received = 0
        while received < 4, await states.next(timeout: .seconds(10)) != nil { received += 1 }
        #expect(received == 4)
        let health = await healthy.health
        #expect(health.availability == .online)
        #expect(health.statistics.errors == 0)
        // One request of the healthy meter, timed while its neighbour times out over
        // and over: it waits for at most the one exchange in progress (one timeout).
        for _ in 0..<5 {
            let started = ContinuousClock.now
            _ = try await healthy.read(.inputRegisters, address: 0, count: 2)
            let waited = ContinuousClock.now - started
            #expect(waited < .milliseconds(timeout + 500), "\(waited)")
        }
        pump.stop()
        running.stop()
        await pair.stop()
        await rig.shutdown()
    }
}
