import ArgumentParser
import Control
import DeviceSimulators
import Foundation
import Gateway
import MeterIO
import Modbus
import PhasorCore
import PhasorService
import PhasorTesting

/// `phasor simulate SITE.yaml`: serves simulated devices for every meter and Modbus
/// device of a site file, on loopback, and writes a copy of the site file pointing
/// at them, so the three services can be tried on it end to end without hardware:
/// each Modbus device gets a simulator (profile, unit id) on its own TCP port, each
/// charge point a car; each P1 and TIC meter a TCP feed (as a network dongle or
/// ser2net) with a telegram every second. The main meter shows a household plus
/// whatever the cars draw, so control's setpoints are visible in the meter a second
/// later. S0 pulse inputs need GPIO and are not simulated (the gateway reports them
/// offline).
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve simulated devices for a site file and write a copy of it pointing at them (Ctrl-C stops).")

    @Argument(help: "The site file (YAML).") var file: String
    @Option(help: "Where to write the site file for the services (default: a new folder in the temporary directory).")
    var output: String?
    @Option(help: "Broker URL to put in that file (default: the site file's).") var broker: String?
    @Option(help: "Stop after this many seconds (default: run until Ctrl-C).") var duration: Double?

    func run() async throws {
        let site: SiteConfiguration
        do { site = try SiteConfiguration.load(from: file, checks: [GatewaySiteCheck()]).site } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let outputURL = output.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("phasor-simulate-\(site.site)-\(UUID().uuidString.prefix(6))")
                .appendingPathComponent("site.yaml")
        let stateFolder = outputURL.deletingLastPathComponent().appendingPathComponent("state")
        try FileManager.default.createDirectory(at: stateFolder, withIntermediateDirectories: true)

        let devices = try SimulatedSite(site)
        defer { devices.stop() }
        var edits = devices.edits
        if let broker { edits.append(.init(["broker", "url"], .string(broker))) }
        // A trial keeps its state beside the file, not in the machine's /var/lib/phasor.
        if site.pulses != nil { edits.append(.init(["pulses", "state_folder"], .string(stateFolder.appendingPathComponent("pulses").path))) }
        if site.control != nil { edits.append(.init(["control", "state_dir"], .string(stateFolder.appendingPathComponent("control").path))) }
        let text = try YAMLEditing.apply(edits, to: try ConfigLoader.read(URL(fileURLWithPath: file)))
        try ("# \(file) with every device pointed at `phasor simulate` (written by it; comments of the original dropped).\n" + text)
            .write(to: outputURL, atomically: true, encoding: .utf8)

        let path = outputURL.path
        FileHandle.standardOutput.write(Data("""
            Simulated devices of site '\(site.site)' (\(file)), on 127.0.0.1:
            \(devices.summary.map { "  " + $0 }.joined(separator: "\n"))
            Site file pointing at them: \(path)
            Run the services on it (each in its own terminal, or with &):
              phasor-gateway --config \(path)
              phasor-control --config \(path)
              phasor-bridge --config \(path)
            Ctrl-C stops the simulation.

            """.utf8))
        await DemoCommand.waitForStop(duration: duration, children: []) { devices.tick(at: Date()) }
        print("Simulation stopped.")
    }
}

/// The simulated devices of one site file and how they move: cars charge at what
/// the chargers were told, the main meter sees them.
final class SimulatedSite: Sendable {
    struct Charger: Sendable {
        let id: String
        let simulator: ModbusSimulator
        let unit: UInt8
        let rotation: PhaseRotation
    }

    struct Feed: Sendable {
        let id: String
        let kind: MeterConfiguration.Kind
        let server: FanOutServer
    }

    let simulators: [ModbusSimulator]
    let chargers: [Charger]
    /// The main meter when it is a Modbus meter (its values are overridden).
    let modbusMain: (simulator: ModbusSimulator, unit: UInt8)?
    let feeds: [Feed]
    let mainMeter: String?
    let edits: [YAMLEditing.Edit]
    let summary: [String]
    private let household = DemoMeter()
    private let p1: SimulatedP1Meter
    private let ticCounter = Locked(12_345_678.0)

    init(_ site: SiteConfiguration) throws {
        var simulators: [ModbusSimulator] = []
        var chargers: [Charger] = []
        var modbusMain: (ModbusSimulator, UInt8)?
        var feeds: [Feed] = []
        var edits: [YAMLEditing.Edit] = []
        var summary: [String] = []
        if case .device(let id) = site.control?.site.meter { mainMeter = id } else { mainMeter = nil }
        let points = site.control.map { Self.chargePoints(in: $0.site) } ?? []

        if let modbus = site.modbus {
            let library = modbus.profileLibrary()
            for device in modbus.devices {
                guard let profile = library[device.profile] else { continue }
                let unit = UInt8(clamping: device.unitId ?? profile.profile.connection.unitId)
                let simulator = ModbusSimulator()
                try simulator.add(profile, unitID: unit)
                var note = ""
                if profile.charger != nil {
                    let point = points.first { ($0.device ?? $0.id) == device.id }
                    let phases = point?.phases ?? 3
                    simulator.updateCharger(unitID: unit) { $0.vehicle = .init(phases: phases, maxCurrent: phases == 1 ? 32 : 16, response: .typical) }
                    chargers.append(Charger(id: device.id, simulator: simulator, unit: unit, rotation: point?.rotation ?? .l1l2l3))
                    note = phases == 1 ? ", a single-phase car (32 A)" : ", a three-phase car (16 A)"
                }
                let port = try simulator.startTCP()
                simulators.append(simulator)
                if device.id == mainMeter { modbusMain = (simulator, unit) }
                let base = ["modbus", "devices", device.id]
                edits += [.init(base + ["host"], .string("127.0.0.1")), .init(base + ["port"], .int(port)),
                          .init(base + ["unit_id"], .int(Int(unit))), .init(base + ["bus"], nil), .init(base + ["serial"], nil),
                          .init(base + ["inter_frame_delay_ms"], nil)]
                if !profile.profile.connection.transports.contains(.tcp) { edits.append(.init(base + ["tcp_gateway"], .bool(true))) }
                summary.append("modbus \(device.id) (\(device.profile)): 127.0.0.1:\(port) unit \(unit)\(note)")
            }
        }
        for meter in site.meters ?? [] {
            if meter.smartyKey != nil || meter.smartyKeyFile != nil {
                summary.append("meter \(meter.id) (\(meter.type.rawValue), Smarty): not simulated (encrypted)")
                continue
            }
            let server = try FanOutServer(port: 0, bindAddress: "127.0.0.1")
            feeds.append(Feed(id: meter.id, kind: meter.type, server: server))
            edits += [.init(["meters", meter.id, "source"], .string("tcp://127.0.0.1:\(server.port)")),
                      .init(["meters", meter.id, "serial"], nil)]
            let what = meter.id == mainMeter ? "household + the cars, every second" : "household, every second"
            summary.append("meter \(meter.id) (\(meter.type.rawValue)): tcp://127.0.0.1:\(server.port), \(what)")
        }
        for input in site.pulses?.inputs ?? [] {
            summary.append("pulses \(input.id): not simulated (needs GPIO); the gateway reports it offline")
        }
        self.simulators = simulators
        self.chargers = chargers
        self.modbusMain = modbusMain
        self.feeds = feeds
        self.edits = edits
        self.summary = summary
        p1 = try SimulatedP1Meter(template: Array(Self.p1Template.utf8))
        tick(at: Date())
    }

    static func chargePoints(in panel: PanelConfig) -> [ChargePointConfig] {
        panel.chargePoints + panel.panels.flatMap(chargePoints(in:))
    }

    func stop() {
        for simulator in simulators { simulator.stop() }
        for feed in feeds { feed.server.stop() }
    }

    /// One second of the site: the main meter's currents, every meter's telegram.
    func tick(at now: Date) {
        let house = household.reading(at: now)
        // The simulated house only imports (the demo meter's PV would export at midday).
        let houseAmps = (1...3).map { max(0, house.number(Quantity.power.phase($0)) ?? 0) / 230 }
        var siteAmps = houseAmps
        for charger in chargers {
            guard let car = charger.simulator.charger(unitID: charger.unit) else { continue }
            let drawn = car.chargingCurrent(at: now)
            let mask = charger.rotation.gridMask(phases: car.phasesInUse(at: now))
            for phase in 0..<3 { siteAmps[phase] += drawn * mask[phase] }
        }
        if let main = modbusMain {
            var total = 0.0
            for phase in 1...3 {
                let watts = siteAmps[phase - 1] * 230
                total += watts
                main.simulator.override(unitID: main.unit, Quantity.current.phase(phase), siteAmps[phase - 1])
                main.simulator.override(unitID: main.unit, Quantity.power.phase(phase), watts)
                main.simulator.override(unitID: main.unit, Quantity.voltage.phase(phase), 230)
            }
            main.simulator.override(unitID: main.unit, .power, total)
        }
        for feed in feeds {
            let amps = feed.id == mainMeter ? siteAmps : houseAmps
            switch feed.kind {
            case .p1: feed.server.broadcast(p1.telegram(time: now, currents: amps))
            case .tic: feed.server.broadcast(ticFrame(amps: amps.reduce(0, +)))
            }
        }
    }

    /// A TIC historique frame (single-phase, base tariff) drawing `amps`.
    private func ticFrame(amps: Double) -> [UInt8] {
        let index = ticCounter.withLock { counter -> Double in
            counter += amps * 230 / 3600  // Wh in one second
            return counter
        }
        let groups = [("ADCO", "031762120341"), ("OPTARIF", "BASE"), ("ISOUSC", "45"),
                      ("BASE", String(format: "%09d", Int(index))), ("PTEC", "TH.."), ("IINST", String(format: "%03d", Int(amps.rounded()))),
                      ("IMAX", "090"), ("PAPP", String(format: "%05d", Int(amps * 230))), ("HHPHC", "A"), ("MOTDETAT", "000000")]
        var frame: [UInt8] = [0x02]
        for (label, value) in groups {
            let body = Array("\(label) \(value)".utf8)
            let sum = UInt8((body.reduce(0) { $0 + Int($1) } & 0x3F) + 0x20)
            frame += [0x0A] + body + [0x20, sum, 0x0D]
        }
        return frame + [0x03]
    }

    /// A Belgian e-MUCS (DSMR 5) telegram: the template whose time, powers and
    /// currents `SimulatedP1Meter` replaces.
    static let p1Template = [
        "/FLU5\\253769484_A", "", "0-0:96.1.4(50217)", "0-0:96.1.1(3153414733313031303231363035)", "0-0:1.0.0(200512135409S)",
        "1-0:1.8.1(000000.034*kWh)", "1-0:1.8.2(000015.758*kWh)", "1-0:2.8.1(000000.000*kWh)", "1-0:2.8.2(000000.011*kWh)",
        "0-0:96.14.0(0001)", "1-0:1.7.0(00.000*kW)",
        "1-0:2.7.0(00.000*kW)", "1-0:21.7.0(00.000*kW)", "1-0:41.7.0(00.000*kW)", "1-0:61.7.0(00.000*kW)",
        "1-0:22.7.0(00.000*kW)", "1-0:42.7.0(00.000*kW)", "1-0:62.7.0(00.000*kW)", "1-0:32.7.0(230.0*V)", "1-0:52.7.0(230.0*V)",
        "1-0:72.7.0(230.0*V)", "1-0:31.7.0(000.00*A)", "1-0:51.7.0(000.00*A)", "1-0:71.7.0(000.00*A)", "0-0:96.3.10(1)",
        "0-0:17.0.0(999.9*kW)", "1-0:31.4.0(999*A)", "0-0:96.13.0()", "!0000", "",
    ].joined(separator: "\r\n")
}
