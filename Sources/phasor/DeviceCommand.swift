import ArgumentParser
import Foundation
import Gateway
import Modbus
import PhasorCore
import PhasorService

/// `phasor device test <id>`: the installer's "Test" button. Reads every register
/// of the device's profile once and prints value, unit, raw words and error.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Modbus device commands.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reads every register of a device's profile once and prints a table (exit 1 if any read failed).")

        @Argument(help: "The device id (from the site file, or PROFILE_UNIT with the quick-start flags).") var id: String
        @Option(help: "Site file (YAML) with a modbus: section.") var config: String?
        @OptionGroup(title: "Modbus quick start") var modbus: ModbusQuickStartOptions

        func run() async throws {
            let section: ModbusSection
            do {
                let fromFile = try config.map { try SiteConfiguration.load(from: $0, checks: [GatewaySiteCheck()]) }?.site.modbus
                guard let found = try modbus.section(arguments: CommandLine.arguments) ?? fromFile else {
                    throw ValidationError("no Modbus devices: give --config site.yaml or --modbus URL --device PROFILE:UNIT")
                }
                section = found
            } catch let error as ConfigError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(2)
            }
            guard let deviceConfig = section.devices.first(where: { $0.id == id }) else {
                throw ValidationError("no device '\(id)'; configured: \(section.devices.map(\.id).joined(separator: ", "))")
            }
            let pool = BusPool()
            let device = try pool.makeDevice(deviceConfig, profiles: section.profileLibrary())
            print("\(id): \(device.profile.id) (\(device.profile.profile.manufacturer) \(device.profile.profile.model)) "
                  + "at \(device.bus.link), unit \(device.target.unitID)")
            let rows = await deviceTest(profile: device.profile, bus: device.bus, target: device.target)
            print(TestRow.table(rows).render())
            await pool.closeAll()
            let failed = rows.filter { $0.error != nil }.count
            print("\(rows.count - failed) of \(rows.count) registers read")
            if failed > 0 { throw ExitCode(1) }
        }
    }
}

/// `phasor profiles`: the device profiles the gateway knows.
struct ProfilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles", abstract: "Lists the shipped device profiles (and a folder's own, which override them).")

    @Option(help: "A folder of your own profiles (as modbus.profile_folder).") var folder: String?

    func run() async throws {
        let library = ProfileLibrary.load(userFolder: folder.map { URL(fileURLWithPath: $0) })
        var table = TextTable(header: ["id", "kind", "manufacturer", "model", "transports", "unit", "confidence"])
        for profile in library.profiles.values.sorted(by: { ($0.kind.rawValue, $0.id) < ($1.kind.rawValue, $1.id) }) {
            let p = profile.profile
            table.add([p.id, p.kind.rawValue, p.manufacturer, p.model, p.connection.transports.map(\.rawValue).joined(separator: ","),
                       String(p.connection.unitId), p.confidence.rawValue])
        }
        print(table.render())
        for problem in library.problems { FileHandle.standardError.write(Data("warning: \(problem)\n".utf8)) }
    }
}
