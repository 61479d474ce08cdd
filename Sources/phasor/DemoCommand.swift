import ArgumentParser
import Foundation
import PhasorTesting

#if canImport(Glibc)
import Glibc
#endif

/// Runs a whole demo site on this machine: a mosquitto on loopback, simulated
/// Modbus devices (`DemoSite`: a grid meter and two charge points with cars) and
/// the three services, until Ctrl-C (or `--duration`).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run a local broker and the three services on a demo site.")

    @Option(help: "Broker port on 127.0.0.1 (a free one if taken).") var port: Int = 1883
    @Option(help: "Site id.") var site: String = "demo"
    @Option(help: "Stop after this many seconds (default: run until Ctrl-C).") var duration: Double?
    @Option(help: "Log level of the services.") var logLevel: String = "info"
    @Option(help: "mosquitto ACL file (deploy/mosquitto/phasor.acl): the broker then requires a user per service, as installed.")
    var aclFile: String?

    func run() async throws {
        let port = Loopback.isListening(port: self.port) ? Loopback.freePort() : self.port
        let secured: SecuredBroker? = if let aclFile { try await SecuredBroker.start(aclFile: aclFile, port: port) } else { nil }
        let broker: MosquittoBroker
        if let secured { broker = secured.broker } else {
            broker = try await MosquittoBroker.start(options: .init(persistence: false), port: port)
        }
        // Stops the broker and removes the demo's credentials with it.
        let stopBroker = { if let secured { await secured.stop() } else { await broker.stop() } }
        let devices: DemoSite
        do { devices = try DemoSite() } catch {
            await stopBroker()
            throw error
        }
        let siteFile = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-demo-\(UUID().uuidString.prefix(8)).yaml")
        try devices.siteYAML(site: site).write(to: siteFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: siteFile) }
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("phasor-demo-state-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: stateDirectory) }
        let binaries = BuiltExecutables.directory
        var children: [(String, ChildProcess)] = []
        for name in ["phasor-gateway", "phasor-control", "phasor-bridge"] {
            let path = binaries.appendingPathComponent(name).path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                await stopBroker()
                throw ValidationError("\(path) not found: build all products first (swift build)")
            }
            var arguments = ["--broker", "mqtt://127.0.0.1:\(port)", "--site", site, "--log-level", logLevel,
                             "--config", siteFile.path]
            // A fresh state per run: the demo must not inherit an earlier run's slider or pauses.
            if name == "phasor-control" { arguments += ["--state-dir", stateDirectory.path] }
            let user = String(name.dropFirst("phasor-".count))
            if let file = secured?.passwordFiles[user] { arguments += ["--username", user, "--password-file", file] }
            let child = try ChildProcess(path, arguments, inheritOutput: true)
            children.append((name, child))
        }
        // Client ids are usernames on the secured broker (deploy/mosquitto/phasor.conf):
        // a second connection as the same user replaces the first, so watching and
        // commanding use two users.
        func login(_ user: String) -> String { secured.flatMap { s in s.password(user).map { " -u \(user) -P \($0)" } } ?? "" }
        // Unbuffered: the banner matters most when the output is a file or a pipe.
        FileHandle.standardOutput.write(Data("""
            Phasor demo site '\(site)' running: broker mqtt://127.0.0.1:\(port) (pid \(broker.pid ?? 0))\(secured == nil ? "" : ", users and ACL as deploy/ installs them").
            Devices:       grid meter (SDM630), cp1 (Alfen, three-phase car), cp2 (Alfen, single-phase car on L2),
                           simulated over Modbus TCP on 127.0.0.1:\(devices.port)
            Watch it:      mosquitto_sub -p \(port)\(login("viewer")) -t 'phasor/\(site)/#' -v
                           (or only the setpoints: -t 'phasor/\(site)/chargepoint/+/setpoint')
            Set a slider:  mosquitto_pub -p \(port)\(login("operator")) -t 'phasor/\(site)/control/slider/set' -m 4
            Ctrl-C stops everything.

            """.utf8))
        await Self.waitForStop(duration: duration, children: children) { devices.updateGridMeter(at: Date()) }
        devices.simulator.stop()
        for (_, child) in children.reversed() { await child.terminate() }
        await stopBroker()
        print("Phasor demo stopped.")
    }

    /// Returns on SIGINT/SIGTERM, after `duration`, or when a service dies.
    static func waitForStop(duration: Double?, children: [(String, ChildProcess)], everySecond: () -> Void) async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let signals = [SIGINT, SIGTERM].map { s -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: s)
            source.resume()
            return source
        }
        let stop = StopFlag()
        for s in signals { s.setEventHandler { stop.set() } }
        let deadline = duration.map { ContinuousClock.now + .milliseconds(Int($0 * 1000)) }
        var nextTick = ContinuousClock.now
        while !stop.isSet {
            if ContinuousClock.now >= nextTick {
                everySecond()
                nextTick = nextTick + .seconds(1)
            }
            if let deadline, ContinuousClock.now >= deadline { break }
            if let dead = children.first(where: { !$0.1.isRunning }) {
                print("\(dead.0) exited with status \(dead.1.poll() ?? -1); stopping the demo.")
                break
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        signals.forEach { $0.cancel() }
    }
}

final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
