import DeviceSimulators
import Foundation
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// Issue 9, defect 2, against the phasor-gateway executable and a real broker: a
/// charge point that stops answering goes `offline` (availability and retained
/// state), setpoints for it are not retried in a tight loop, and a neighbour on
/// the same Modbus endpoint keeps being polled. Timings are the gateway's real
/// ones (1 s response timeout, one retry, 1 s polls); control is played by the
/// test at its real rate, a setpoint per charger per second.
@Suite(.serialized, .endToEnd) struct ChargerSilenceTests {
    /// Everything the observer heard, with its arrival time.
    final class Log: Sendable {
        let entries = Locked<[(at: ContinuousClock.Instant, topic: String, text: String)]>([])
        func add(_ m: MQTTMessage) { entries.withLock { $0.append((.now, m.topic, m.string)) } }
        func first(after start: ContinuousClock.Instant, _ match: (String, String) -> Bool) -> ContinuousClock.Instant? {
            entries.withLock { $0.first { $0.at >= start && match($0.topic, $0.text) }?.at }
        }
        func times(after start: ContinuousClock.Instant, topic: String) -> [ContinuousClock.Instant] {
            entries.withLock { $0.filter { $0.at >= start && $0.topic == topic }.map(\.at) }
        }
    }

    /// The gateway executable on the quick-start flags, an observer logging the
    /// site's whole tree, and control played at its real rate.
    struct Rig {
        let topics: TopicBuilder
        let observer: MQTTClient
        let log = Log()
        let collector: Task<Void, Never>
        let gateway: ChildProcess
        let control: Task<Void, Never>
        let output: String

        init(modbusPort: Int, units: [Int]) async throws {
            let gatewayPath = BuiltExecutables.directory.appendingPathComponent("phasor-gateway").path
            try #require(FileManager.default.isExecutableFile(atPath: gatewayPath), "build phasor-gateway first")
            let brokerPort = try await SharedBroker.port()
            let site = uniqueSite()
            topics = TopicBuilder(site: site)
            observer = try await connectedClient()
            let all = try await observer.subscribe("\(topics.root)/#", qos: .atLeastOnce)
            collector = Task { [log] in for await m in all { log.add(m) } }
            output = FileManager.default.temporaryDirectory.appendingPathComponent("gw-silence-\(UUID().uuidString).log").path
            gateway = try ChildProcess(gatewayPath, [
                "--broker", "mqtt://127.0.0.1:\(brokerPort)", "--site", site, "--log-level", "info",
                "--modbus", "tcp://127.0.0.1:\(modbusPort)",
            ] + units.flatMap { ["--device", "alfen:\($0)"] }, outputFile: output)
            control = ChargerSilenceTests.control(observer, topics: topics, chargers: units.map { "alfen_\($0)" })
        }

        var gatewayLog: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

        func said(_ id: String, online: Bool, after start: ContinuousClock.Instant) -> ContinuousClock.Instant? {
            log.first(after: start) { $0 == topics.chargePointState(id) && $1.contains("\"online\":\(online)") }
        }

        func availability(_ id: String, _ value: String, after start: ContinuousClock.Instant) -> ContinuousClock.Instant? {
            log.first(after: start) { $0 == topics.deviceAvailability(id) && $1 == value }
        }

        func stop(ids: [String]) async {
            control.cancel()
            #expect(await gateway.terminate() == 0)
            for id in ids {
                for topic in [topics.chargePointState(id), topics.chargePointApplied(id), topics.deviceAvailability(id),
                              topics.deviceStats(id), topics.chargePointSetpoint(id)] {
                    try? observer.publish(MQTTMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true))
                }
            }
            collector.cancel()
            await observer.shutdown()
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Plays control: a setpoint for each charger every second.
    static func control(_ client: MQTTClient, topics: TopicBuilder, chargers: [String]) -> Task<Void, Never> {
        Task {
            var sequence = 1
            while !Task.isCancelled {
                for id in chargers {
                    try? client.publish(MQTTMessage(topic: topics.chargePointSetpoint(id),
                                                    string: #"{"current": 10, "sequence": \#(sequence)}"#, qos: .atLeastOnce))
                }
                sequence += 1
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    @Test func aSilentChargerGoesOfflineQuicklyAndItsNeighbourOnTheSameEndpointKeepsBeingPolled() async throws {
        let simulator = ModbusSimulator()
        try simulator.add(try profile("alfen_eve"), unitID: 1)
        try simulator.add(try profile("alfen_eve"), unitID: 2)
        let port = try simulator.startTCP()
        defer { simulator.stop() }
        let silent = Locked<(on: Bool, requests: Int, writes: Int)>((false, 0, 0))
        simulator.observeRequests { unit, function in
            guard unit == 1 else { return }
            silent.withLock { s in
                guard s.on else { return }
                s.requests += 1
                if [5, 6, 15, 16].contains(function) { s.writes += 1 }
            }
        }
        let rig = try await Rig(modbusPort: port, units: [1, 2])
        let start = ContinuousClock.now
        let bothOnline = await eventually(timeout: .seconds(20)) {
            rig.said("alfen_1", online: true, after: start) != nil && rig.said("alfen_2", online: true, after: start) != nil
        }
        try #require(bothOnline, "\(rig.gatewayLog)")

        // alfen_1 loses power on the bus; alfen_2 on the same TCP endpoint does not.
        silent.withLock { $0.on = true }
        let silenceStart = ContinuousClock.now
        simulator.setResponding(1, false)
        let offline = await eventually(timeout: .seconds(30)) {
            rig.availability("alfen_1", "offline", after: silenceStart) != nil && rig.said("alfen_1", online: false, after: silenceStart) != nil
        }
        try #require(offline, "alfen_1 never reported offline: \(rig.gatewayLog.suffix(3000))")
        let offlineAt = try #require(rig.availability("alfen_1", "offline", after: silenceStart))
        let toOffline = Self.seconds(offlineAt - silenceStart)
        print("charger silence → device/alfen_1/availability offline: \(toOffline) s")
        // Three counted failures, each at most a request timeout and a retry (≈2 s) apart.
        #expect(toOffline < 10)

        // Twenty more seconds of silence, watched as they come (the gateway's real timers).
        let watchUntil = offlineAt + .seconds(20)
        _ = await eventually(timeout: .seconds(25)) { ContinuousClock.now >= watchUntil }
        let (requests, writes) = silent.withLock { ($0.requests, $0.writes) }
        let silentSeconds = Self.seconds(ContinuousClock.now - silenceStart)
        print("requests to the silent charger in \(silentSeconds) s: \(requests), of which writes: \(writes)")
        // Before: a setpoint write a second plus the watchdog and every poll, each a timeout.
        // Each write is two attempts (one retry); the backoff allows a few before offline.
        #expect(writes <= 8, "setpoints retried into a charger that does not answer")
        // About one request per 2 s (the defect made several a second); two of slack for the
        // backoff's phase against the silence window on a loaded machine (14 in 26.8 s seen).
        #expect(Double(requests) < silentSeconds / 2 + 2, "\(requests) requests in \(silentSeconds) s")

        // The neighbour: its state keeps coming (once a second when the bus is free).
        let neighbour = rig.log.times(after: silenceStart, topic: rig.topics.chargePointState("alfen_2"))
        let gaps = zip(neighbour.dropFirst(), neighbour).map { Self.seconds($0 - $1) }
        let longest = gaps.max() ?? .infinity
        print("alfen_2 states during the silence: \(neighbour.count), longest gap \(longest) s")
        // Blocked behind the silent charger it would go the whole silence (~27 s) unpolled; on a
        // loaded machine (a fresh-clone CI run with the suite in parallel) a gap of 7.7 s was seen.
        #expect(longest < 12, "the neighbour went \(longest) s without a completed poll")
        #expect(rig.said("alfen_2", online: false, after: silenceStart) == nil)

        // Back on the bus: online again.
        let back = ContinuousClock.now
        simulator.setResponding(1, true)
        #expect(await eventually(timeout: .seconds(30)) { rig.availability("alfen_1", "online", after: back) != nil })
        if let at = rig.availability("alfen_1", "online", after: back) {
            print("charger back → online: \(Self.seconds(at - back)) s")
        }
        await rig.stop(ids: ["alfen_1", "alfen_2"])
    }

    /// The issue's own setup: a charger served by pymodbus, whose process is
    /// stopped (SIGSTOP: the TCP connection stays open, nothing answers).
    @Test(.enabled(if: SchemaValidation.pythonAvailable, "needs PHASOR_PYTHON with pymodbus"))
    func aPymodbusChargerThatStopsAnsweringGoesOfflineAndComesBack() async throws {
        let peer = try await PymodbusPeer.start()
        defer {
            peer.process.signal(SIGCONT)
            peer.process.terminateBlocking()
        }
        let rig = try await Rig(modbusPort: peer.port, units: [2])
        let start = ContinuousClock.now
        try #require(await eventually(timeout: .seconds(20)) { rig.said("alfen_2", online: true, after: start) != nil },
                     "\(rig.gatewayLog)")

        let stopped = ContinuousClock.now
        peer.process.signal(SIGSTOP)
        let offline = await eventually(timeout: .seconds(30)) {
            rig.availability("alfen_2", "offline", after: stopped) != nil && rig.said("alfen_2", online: false, after: stopped) != nil
        }
        try #require(offline, "pymodbus charger never reported offline: \(rig.gatewayLog.suffix(3000))")
        let at = try #require(rig.availability("alfen_2", "offline", after: stopped))
        print("pymodbus stopped → device/alfen_2/availability offline: \(Self.seconds(at - stopped)) s")
        #expect(Self.seconds(at - stopped) < 10)

        let resumed = ContinuousClock.now
        peer.process.signal(SIGCONT)
        #expect(await eventually(timeout: .seconds(30)) { rig.availability("alfen_2", "online", after: resumed) != nil },
                "pymodbus charger did not come back online")
        await rig.stop(ids: ["alfen_2"])
    }
}
