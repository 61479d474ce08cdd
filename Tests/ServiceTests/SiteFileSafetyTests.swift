import Foundation
import MQTT
import PhasorCore
import PhasorTesting
import Testing
import TestTraits

#if canImport(Glibc)
import Glibc
#endif

/// Issue 9, defects 1, 3 and 5, against the real executables and a real broker:
/// nothing runs on invented data unless asked; a YAML alias bomb is refused at
/// once; `phasor config check` refuses exactly what the services refuse, with one
/// `file:line: field: message` line and exit 2.
@Suite(.endToEnd) struct SiteFileSafetyTests {
    /// A folder with `site.yaml` and the output file of each run.
    struct Folder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("site-safety-\(UUID().uuidString.prefix(8))")
        var file: String { url.appendingPathComponent("site.yaml").path }
        var out: String { url.appendingPathComponent("out.txt").path }

        init(_ yaml: String) throws {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(at: url) }

        /// Runs `binary arguments` to its end (at most `timeout`: a hang is a failure,
        /// not a hung test) and returns its status and output.
        func run(_ binary: String, _ arguments: [String], timeout: Duration = .seconds(20)) async throws
            -> (status: Int32?, output: String)
        {
            try? FileManager.default.removeItem(atPath: out)
            let process = try ChildProcess(executable(binary), arguments, outputFile: out)
            let status = await process.waitForExit(timeout: timeout)
            if status == nil { _ = await process.terminate(grace: .seconds(1)) }
            return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
        }
    }

    // MARK: Defect 1: an invented site drives real devices

    @Test func withNothingToReadTheGatewayExits2AndPublishesNoDemoMeter() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let folder = try Folder("""
            site: \(site)
            broker: {url: "mqtt://127.0.0.1:\(port)"}
            control:
              site: {id: main, current_limit: 25, meter: grid, charge_points: [{id: cp1, max_current: 16}]}

            """)
        defer { folder.remove() }
        let watcher = try makeClient(port: port)
        try await watcher.connect()
        let everything = try await watcher.subscribe("phasor/\(site)/#", qos: .atLeastOnce)

        let gateway = try await folder.run("phasor-gateway", ["--config", folder.file])
        #expect(gateway.status == 2, "refuses to start: \(gateway.output)")
        #expect(gateway.output.contains("\(folder.file): meters: nothing to read"), "\(gateway.output)")
        #expect(gateway.output.split(separator: "\n").count == 1, "one line: \(gateway.output)")
        let published = await everything.next(timeout: .milliseconds(500))
        #expect(published == nil, "nothing published, no demo meter: \(published?.topic ?? "")")
        await watcher.shutdown()
    }

    @Test func withoutAControlSectionControlExits2AndSteersNothing() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let folder = try Folder("""
            site: \(site)
            broker: {url: "mqtt://127.0.0.1:\(port)"}
            meters:
              - {id: grid, type: p1, source: "tcp://127.0.0.1:9"}

            """)
        defer { folder.remove() }
        let watcher = try makeClient(port: port)
        try await watcher.connect()
        let setpoints = try await watcher.subscribe("phasor/\(site)/chargepoint/+/setpoint", qos: .atLeastOnce)
        let state = folder.url.appendingPathComponent("state").path
        for arguments in [["--config", folder.file], ["--site", site, "--broker", "mqtt://127.0.0.1:\(port)"]] {
            let control = try await folder.run("phasor-control", arguments + ["--state-dir", state])
            #expect(control.status == 2, "\(arguments): \(control.output)")
            #expect(control.output.contains("control: missing: phasor-control needs a control: section"), "\(control.output)")
        }
        #expect(await setpoints.next(timeout: .milliseconds(500)) == nil, "no setpoint for the demo's cp1/cp2")
        await watcher.shutdown()
    }

    @Test func theDemoMeterRunsWhenAskedFor() async throws {
        let port = try await SharedBroker.port()
        let site = uniqueSite()
        let watcher = try makeClient(port: port)
        try await watcher.connect()
        let grid = try await watcher.subscribe("phasor/\(site)/meter/grid/state", qos: .atLeastOnce)
        let gateway = try ChildProcess(executable("phasor-gateway"),
                                       ["--broker", "mqtt://127.0.0.1:\(port)", "--site", site, "--log-level", "warning", "--demo"])
        defer { gateway.terminateBlocking() }
        #expect(await grid.next(timeout: .seconds(15)) != nil)
        await watcher.shutdown()
    }

    // MARK: Defect 3: a 585-byte YAML file hangs every service

    /// Nine levels of ten aliases each, then the last one as a mapping key.
    static let aliasBomb: String = {
        var lines = ["l0: &l0 [lol]"]
        for level in 1...9 {
            lines.append("l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        lines.append("y: {? *l9 : 1}")
        return "site: home\n" + lines.joined(separator: "\n") + "\n"
    }()

    @Test func anAliasBombIsRefusedAtOnceByConfigCheckAndTheServices() async throws {
        let folder = try Folder(Self.aliasBomb)
        defer { folder.remove() }
        #expect(Self.aliasBomb.utf8.count > 550 && Self.aliasBomb.utf8.count < 650)
        // Generous watchdog: the check is linear in the file; before the fix these ran for hours.
        for (binary, arguments) in [("phasor", ["config", "check", folder.file]), ("phasor-gateway", ["--config", folder.file]),
                                    ("phasor-control", ["--config", folder.file]), ("phasor-bridge", ["--config", folder.file])] {
            let run = try await folder.run(binary, arguments, timeout: .seconds(20))
            #expect(run.status == 2, "\(binary): \(run.status.map(String.init) ?? "still running after 20 s")")
            #expect(run.output.contains("\(folder.file):"), "\(binary): \(run.output)")
            #expect(run.output.contains("alias"), "\(binary): \(run.output)")
        }
        // An alias as a key, however small, is refused with its line.
        let key = try Folder("site: home\nname: &n cp1\ny: {? *n : 1}\n")
        defer { key.remove() }
        let run = try await key.run("phasor", ["config", "check", key.file])
        #expect(run.status == 2)
        #expect(run.output.contains("\(key.file):3: YAML error: an alias cannot be a mapping key"), "\(run.output)")
    }

    // MARK: Defect 5: config check passes files the services refuse or misread

    static let control = "control:\n  site: {id: main, current_limit: 25, meter: grid, charge_points: [{id: cp1, max_current: 16}]}\n"

    /// (site file, the services that read the faulty section, what the line must say).
    static let refused: [(String, [String], String)] = [
        ("site: '#'\n" + control, ["phasor-gateway", "phasor-control", "phasor-bridge"], ":1: site: '#': use letters, digits"),
        ("site: a/b\n" + control, ["phasor-control"], ":1: site: 'a/b': use letters, digits"),
        ("site: ''\n" + control, ["phasor-control"], ":1: site: '': use letters, digits"),
        ("site: h\nbroker:\n  url: http://127.0.0.1:1883\n" + control, ["phasor-control", "phasor-bridge"],
         ":3: broker.url: broker URL 'http://127.0.0.1:1883': unknown scheme 'http' (use mqtt:// or mqtts://)"),
        ("site: h\nbroker:\n  url: mqtt://127.0.0.1:99999\n" + control, ["phasor-control", "phasor-bridge"],
         ":3: broker.url: broker URL 'mqtt://127.0.0.1:99999': bad port (use 1…65535)"),
        ("site: h\ncontrol:\n  budget: {slider_kw: .inf}\n  site: {id: main, current_limit: 25, meter: grid}\n", ["phasor-control"],
         ":3: control.budget.slider_kw: expected a finite number, found '.inf'"),
        ("site: h\ncontrol:\n  budget: {slider_kw: 0.1}\n  site: {id: main, current_limit: 25, meter: grid}\n", ["phasor-control"],
         ":3: control.budget.slider_kw: 0.1: use 2.5…1000 kW"),
        ("site: h\ncontrol:\n  site:\n    id: main\n    current_limit: 25\n    meter: grid\n    charge_points:\n      - {id: cp1, max_current: 16, phases: 2}\n",
         ["phasor-control"], ":8: control.site.charge_points[0].phases: 2: use 1 or 3"),
        ("site: h\nmeters:\n  - {id: grid, type: p1, source: \"tcp://127.0.0.1:9\"}\nmodbus:\n  devices:\n    - {id: grid, profile: eastron_sdm630, host: 127.0.0.1, tcp_gateway: true}\n",
         ["phasor-gateway"], ":6: modbus.devices.grid.id: 'grid' is also meters.grid: both would publish on meter/grid/"),
        ("site: h\nmeters:\n  - {id: grid, type: p3, source: /dev/ttyUSB0}\n", ["phasor-gateway"],
         ":3: meters[0].type: 'p3' is not allowed; use one of: p1, tic"),
        ("site: h\nmeters:\n  - id: grid\n    type: p1\n    source: /dev/ttyUSB0\n    split_port: 99999\n", ["phasor-gateway"],
         ":6: meters.grid: split_port 99999: use 1…65535"),
        // control.house (issue 11): decode-time rules, relays the gateway must have, the model table, timers.
        ("site: h\ncontrol:\n  site: {id: main, current_limit: 25, meter: grid}\n  house:\n    heat_pump: {relays: [sg0, sg1], power_w: {normal: 1000}, comfort_export_w: 2000, boost_export_w: 1500}\n",
         ["phasor-control"], ":5: control.house.heat_pump.boost_export_w: must be above comfort_export_w"),
        ("site: h\ncontrol:\n  site: {id: main, current_limit: 25, meter: grid}\n  house:\n    heat_pump:\n      relays: [sg0, sg1]\n      power_w: {normal: 1000}\n",
         ["phasor-control"], ":6: control.house.heat_pump.relays[0]: no relay 'sg0' in modbus.relays (none is configured)"),
        ("site: h\nmodbus:\n  devices: []\n  relays: [{id: sg0}, {id: sg1}]\ncontrol:\n  site: {id: main, current_limit: 25, meter: grid}\n  house:\n    heat_pump:\n      model: acme-9000\n      relays: [sg0, sg1]\n      power_w: {normal: 1000}\n",
         ["phasor-control"], ":9: control.house.heat_pump.model: 'acme-9000' is not in the compatibility table"),
        ("site: h\ncontrol:\n  site: {id: main, current_limit: 25, meter: grid}\n  house:\n    relays:\n      - {id: boiler, power_w: 2400, timers: [{from: \"25:00\", to: \"13:00\"}]}\n",
         ["phasor-control"], ":6: control.house.relays[0].timers[0].from: '25:00': use HH:MM"),
        // Battery and inverter setpoints: both maxima or none, devices that take them, a safe
        // limit that holds the export limit alone, ratings for what the profile writes.
        ("site: h\ncontrol:\n  site: {id: main, current_limit: 25, meter: grid}\n  house:\n    battery: {meter: inv, max_charge_w: 3000}\n",
         ["phasor-control"], ":5: control.house.battery.max_discharge_w: give max_charge_w and max_discharge_w together"),
        ("site: h\ncontrol:\n  site: {id: main, current_limit: 25, meter: grid}\n  house:\n    export_limit: {inverter: pv, max_export_w: 3000, rated_power_w: 8000}\n",
         ["phasor-control"], ":5: control.house.export_limit.inverter: no device 'pv' in modbus.devices"),
        ("site: h\nmodbus:\n  devices:\n    - {id: pv, profile: sunspec_inverter, host: 127.0.0.1, setpoints: {active_power_max_w: 8000}}\ncontrol:\n  site: {id: main, current_limit: 25, meter: grid}\n  house:\n    export_limit: {inverter: pv, max_export_w: 3000, rated_power_w: 8000}\n",
         ["phasor-control"], ":8: control.house.export_limit.max_export_w: the inverter's safe limit"),
        ("site: h\nmodbus:\n  devices:\n    - {id: pv, profile: sunspec_inverter, host: 127.0.0.1, setpoints: {validity_s: 30}}\n",
         ["phasor-gateway"], ":4: modbus.pv.setpoints.active_power_max_w: required"),
        ("site: h\nmodbus:\n  devices:\n    - {id: m, profile: eastron_sdm630, host: 127.0.0.1, tcp_gateway: true, setpoints: {active_power_max_w: 5000}}\n",
         ["phasor-gateway"], ":4: modbus.m.setpoints: this profile takes no setpoints"),
    ]

    @Test(arguments: refused)
    func configCheckRefusesWhatTheServicesRefuseWithTheSameLine(yaml: String, services: [String], expected: String) async throws {
        let folder = try Folder(yaml)
        defer { folder.remove() }
        let check = try await folder.run("phasor", ["config", "check", folder.file])
        #expect(check.status == 2, "phasor config check: \(check.output)")
        #expect(check.output.hasPrefix("error: \(folder.file)\(expected)"), "phasor config check: \(check.output)")
        #expect(check.output.split(separator: "\n").count == 1, "one line: \(check.output)")
        for service in services {
            let state = service == "phasor-control" ? ["--state-dir", folder.url.path] : []
            let run = try await folder.run(service, ["--config", folder.file] + state)
            #expect(run.status == 2, "\(service): \(run.output)")
            #expect(run.output == check.output, "\(service) says what config check says")
        }
    }

    /// The published schema agrees: what config check refuses in the control section, the schema refuses too.
    @Test(arguments: [("slider_kw: 0.1", "phases: 3"), ("slider_kw: 1001", "phases: 3"), ("slider_kw: 5", "phases: 2")])
    func theSchemaRefusesTheSameControlValues(budget: String, phases: String) async throws {
        let good = "site: h\ncontrol:\n  budget: {slider_kw: 5}\n  site: {id: main, current_limit: 25, meter: grid, charge_points: [{id: cp1, max_current: 16, phases: 3}]}\n"
        let bad = good.replacingOccurrences(of: "slider_kw: 5", with: budget).replacingOccurrences(of: "phases: 3", with: phases)
        guard let accepted = try await validate([Array(good.utf8)], against: "config.schema.json", fileExtension: "yaml") else { return }
        #expect(accepted.status == 0, "\(accepted.output)")
        let refused = try #require(try await validate([Array(bad.utf8)], against: "config.schema.json", fileExtension: "yaml"))
        #expect(refused.status != 0, "schema accepts \(budget), \(phases)")
        let folder = try Folder(bad)
        defer { folder.remove() }
        #expect(try await folder.run("phasor", ["config", "check", folder.file]).status == 2)
    }

    @Test func aDirectoryIsNotASiteFile() async throws {
        let folder = try Folder("site: h\n")
        defer { folder.remove() }
        for (binary, arguments) in [("phasor", ["config", "check", folder.url.path]), ("phasor-bridge", ["--config", folder.url.path])] {
            let run = try await folder.run(binary, arguments)
            #expect(run.status == 2)
            #expect(run.output == "error: \(folder.url.path): is a directory, not a YAML file\n", "\(binary): \(run.output)")
        }
    }

    @Test func aBusySplitPortIsAWarningForConfigCheck() async throws {
        let busy = try FanOutProbe()
        defer { busy.close() }
        let folder = try Folder("site: h\nmeters:\n  - id: grid\n    type: p1\n    source: tcp://127.0.0.1:9\n    split_port: \(busy.port)\n")
        defer { folder.remove() }
        let check = try await folder.run("phasor", ["config", "check", folder.file])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("warning: \(folder.file):6: meters.grid.split_port: port \(busy.port) is in use now"), "\(check.output)")
    }
}

/// A TCP listener on a free loopback port, to make a port busy.
struct FanOutProbe {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
