import DeviceSimulators
import Foundation
import Logging
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing

/// A whole site on one machine: a P1 meter on a socat pty, two charge points
/// (different brands) on Modbus TCP simulators with a car plugged into each, and the
/// real `phasor-gateway` and `phasor-control` executables on the shared mosquitto.
///
/// The meter measures what a real one would: the house load plus what the simulated
/// cars draw at that moment, while the gateway reports the chargers only at its
/// polls. That lag once let control raise the cars over the main limit (meter −
/// stale report hid real load); control now believes a report only down to the
/// lowest setpoint since it was taken, and this test keeps the lag in.
final class SiteRig: Sendable {
    struct Charger: Sendable {
        let id: String
        let profile: ResolvedProfile
        let simulator: ModbusSimulator
        var model: ChargerModel? { simulator.charger(unitID: 1) }
        /// The current limit last written to the simulated charger.
        var setpoint: Double? { model?.setpoint }
    }

    static let mainLimit = 32.0
    static let carResponse = ChargerModel.Response.typical
    let site: EndToEndSite
    let chargers: [Charger]
    let messages: SiteMessages
    let folder: URL
    private let pty: SocatPTYPair
    private let line: SerialLineWriter
    private let meter: SimulatedP1Meter
    private let client: MQTTClient
    let gateway: ChildProcess
    let control: ChildProcess
    /// The meter clock: one second further for every telegram.
    private let meterTime = Locked(Date())

    static func start() async throws -> SiteRig {
        let pty = try await SocatPTYPair.start()
        do {
            return try await SiteRig(pty: pty)
        } catch {
            await pty.stop()
            throw error
        }
    }

    private init(pty: SocatPTYPair) async throws {
        self.pty = pty
        let library = ProfileLibrary.load()
        var chargers: [Charger] = []
        // Two brands with different register maps: Alfen (float32 A, safe 6 A) and
        // ABB Terra AC (uint32 mA, safe 0 A: it stops when its master goes quiet).
        for (id, profileID) in [("alfen", "alfen_eve"), ("abb", "abb_terra_ac")] {
            let profile = try #require(library[profileID])
            let simulator = ModbusSimulator()
            try simulator.add(profile, unitID: 1)
            // Cars with the plant's timing: they lower after 1.5 s and ramp up at 5 A/s after 1 s.
            simulator.updateCharger(unitID: 1) { $0.vehicle = .init(phases: 3, response: Self.carResponse) }
            chargers.append(Charger(id: id, profile: profile, simulator: simulator))
        }
        var points: [EndToEndSite.ChargePoint] = []
        for charger in chargers {
            let port = try charger.simulator.startTCP()
            let safe = try #require(charger.profile.charger?.safeCurrent)
            points.append(.init(id: charger.id, profile: charger.profile.id, port: port, maxCurrent: 16, safeCurrent: safe))
        }
        self.chargers = chargers
        let name = "site\(UUID().uuidString.prefix(8))"
        site = EndToEndSite(site: name, meterDevice: pty.second, mainLimit: Self.mainLimit, chargePoints: points)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-\(name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = try site.write(into: folder)
        meter = try SimulatedP1Meter(template: try Self.fixture("dsmr5-belgium-fluvius-v171-dsmrparser.txt"))
        line = try SerialLineWriter(path: pty.first)

        let port = try await SharedBroker.port()
        var logger = Logger(label: "site-test")
        logger.logLevel = .warning
        client = try MQTTClient(
            configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "site-\(name)"), logger: logger)
        try await client.connect()
        let topics = TopicBuilder(site: name)
        messages = SiteMessages(try await client.subscribe(topics.all, qos: .atLeastOnce), topics: topics)

        let common = ["--config", config, "--broker", "mqtt://127.0.0.1:\(port)", "--log-level", "info"]
        let gateway = try ChildProcess(BuiltExecutables.path("phasor-gateway"), common,
                                       outputFile: folder.appendingPathComponent("gateway.log").path)
        do {
            control = try ChildProcess(BuiltExecutables.path("phasor-control"),
                                       common + ["--state-dir", folder.appendingPathComponent("state").path],
                                       outputFile: folder.appendingPathComponent("control.log").path)
        } catch {
            gateway.terminateBlocking()
            throw error
        }
        self.gateway = gateway
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return [UInt8](try Data(contentsOf: url.appendingPathComponent(name)))
    }

    /// Waits until the gateway reports both chargers with their cars and control is online.
    func waitUntilRunning() async throws {
        let ready = await eventually(timeout: .seconds(20)) {
            messages.status(.control) == "online" && chargers.allSatisfy {
                messages.chargePointState($0.id).map { $0.online && $0.status.vehiclePresent } ?? false
            }
        }
        try #require(ready, "gateway and control running; logs: \(logs())")
    }

    /// Writes one telegram: the house load plus what the cars draw now, per phase.
    /// Waits until control has decided on it, so telegrams never queue up.
    @discardableResult
    func sendTelegram(house: [Double]) async throws -> Bool {
        let time = meterTime.withLock { time in
            time += 1
            return time
        }
        // A real meter sends once a second: control's timing (cars settling, spacing of
        // increases) runs on the same clock as the meter, so the telegram waits for its second.
        let wait = time.timeIntervalSinceNow
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        let measured = phaseLoads(house: house)
        try line.write(meter.telegram(time: time, currents: measured))
        // The telegram carries whole seconds; control reports the reading's time.
        let decided = await eventually(timeout: .seconds(5)) {
            (messages.lastDecidedMeterTime()?.timeIntervalSince(time.addingTimeInterval(-1)) ?? -1) > 0
        }
        try #require(decided, "control decided on the telegram of \(time); logs: \(logs())")
        return true
    }

    /// Per grid phase: house load plus what the simulated cars draw now.
    func phaseLoads(house: [Double]) -> [Double] {
        let now = Date()
        return (0..<3).map { phase in
            house[phase] + chargers.reduce(0) { sum, charger in
                guard let model = charger.model, phase < model.phasesInUse(at: now) else { return sum }
                return sum + model.chargingCurrent(at: now)
            }
        }
    }

    /// The gateway has reported what the simulated cars draw now (it polls every second).
    /// Every car draws its charger's limit (it has followed the last setpoint: not still
    /// ramping up to it) and the gateway reports that.
    var carsFollowedAndReported: Bool {
        let now = Date()
        return reportsMatchTheChargers && chargers.allSatisfy { charger in
            guard let model = charger.model else { return false }
            return abs(model.chargingCurrent(at: now) - model.setpoint) < 0.01
        }
    }

    var reportsMatchTheChargers: Bool {
        let now = Date()
        return chargers.allSatisfy { charger in
            guard let model = charger.model, let reported = messages.chargePointState(charger.id)?.currents.first ?? nil
            else { return false }
            return abs(reported - model.chargingCurrent(at: now)) < 0.01
        }
    }

    func logs() -> String {
        ["gateway", "control"].map { name in
            let text = (try? String(contentsOf: folder.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
            return "\n--- \(name) ---\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        }.joined()
    }

    /// Stops everything this rig started, whatever state the test left it in.
    func stop() async {
        await control.terminate()
        await gateway.terminate()
        chargers.forEach { $0.simulator.stop() }
        await pty.stop()
        await client.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// Runs `body` on a started rig and stops the rig afterwards, also when the body throws.
func withSiteRig(_ body: (SiteRig) async throws -> Void) async throws {
    let rig = try await SiteRig.start()
    do {
        try await body(rig)
    } catch {
        await rig.stop()
        throw error
    }
    await rig.stop()
}
