import ArgumentParser
import Foundation
import Modbus

/// Modbus without a site file, as mbmd users know it:
///
///     phasor-gateway --modbus tcp://192.0.2.10:502 --device sdm630:1 --device alfen:1 \
///                    --modbus 'rtu:///dev/ttyUSB0?baud=9600&parity=N' --device pac2200:3
///
/// Each `--device PROFILE:UNIT` belongs to the `--modbus` bus named before it.
/// ArgumentParser collects repeated options into separate arrays and loses their
/// order, so the declared options give help and types, and the pairing is read
/// from the raw argument list (`--opt value` and `--opt=value` both work).
/// PROFILE is a profile id or an unambiguous part of one (`sdm630` →
/// `eastron_sdm630`); the device id becomes `<PROFILE>_<UNIT>` (`sdm630_1`).
public struct ModbusQuickStartOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: ArgumentHelp(
        "A Modbus bus: tcp://HOST[:PORT] or rtu:///dev/ttyX?baud=9600&parity=N|E|O&stop=1. Repeatable.",
        valueName: "url"))
    public var modbus: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "A device on the bus named before it: PROFILE:UNIT (e.g. sdm630:1). Repeatable.", valueName: "profile:unit"))
    public var device: [String] = []

    public init() {}

    public func validate() throws {
        _ = try section(arguments: CommandLine.arguments)
    }

    /// The devices the flags describe, or nil when there are none.
    public func section(arguments: [String], profiles: ProfileLibrary = ProfileLibrary.load()) throws -> ModbusSection? {
        var bus: QuickStartBus?
        var devices: [ModbusDeviceConfig] = []
        for (option, value) in Self.options(in: arguments) {
            switch option {
            case "--modbus": bus = try QuickStartBus(url: value)
            default:
                guard let bus else { throw ValidationError("--device \(value): name its bus first with --modbus") }
                devices.append(try bus.device(value, profiles: profiles))
            }
        }
        guard !devices.isEmpty else { return nil }
        let section = ModbusSection(devices: devices)
        do {
            try section.validate(profiles: profiles, file: "command line")
        } catch {
            throw ValidationError(error.description)
        }
        return section
    }

    /// `--modbus` and `--device` values in the order given.
    static func options(in arguments: [String]) -> [(String, String)] {
        var result: [(String, String)] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            for name in ["--modbus", "--device"] {
                if argument == name, i + 1 < arguments.count {
                    result.append((name, arguments[i + 1]))
                    i += 1
                } else if argument.hasPrefix(name + "=") {
                    result.append((name, String(argument.dropFirst(name.count + 1))))
                }
            }
            i += 1
        }
        return result
    }
}

/// One `--modbus` URL.
struct QuickStartBus {
    var host: String?
    var port: Int?
    var serialDevice: String?
    var serial: SerialSettings?

    init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw ValidationError("--modbus \(url): use tcp://HOST[:PORT] or rtu:///dev/ttyX?baud=9600")
        }
        switch scheme {
        case "tcp":
            guard let host = components.host, !host.isEmpty else { throw ValidationError("--modbus \(url): no host") }
            self.host = host
            port = components.port
        case "rtu":
            guard !components.path.isEmpty else { throw ValidationError("--modbus \(url): no serial device") }
            serialDevice = components.path
            var settings = SerialSettings()
            var given = false
            for item in components.queryItems ?? [] {
                given = true
                let value = item.value ?? ""
                switch item.name {
                case "baud":
                    guard let baud = Int(value), baud > 0 else { throw ValidationError("--modbus \(url): baud '\(value)'") }
                    settings.baud = baud
                case "parity":
                    switch value.uppercased() {
                    case "N": settings.parity = .none
                    case "E": settings.parity = .even
                    case "O": settings.parity = .odd
                    default: throw ValidationError("--modbus \(url): parity is N, E or O")
                    }
                case "stop", "stopbits":
                    guard let stop = Int(value), stop == 1 || stop == 2 else { throw ValidationError("--modbus \(url): stop is 1 or 2") }
                    settings.stopBits = stop
                case "data", "databits":
                    guard let bits = Int(value), (7...8).contains(bits) else { throw ValidationError("--modbus \(url): data bits 7 or 8") }
                    settings.dataBits = bits
                default: throw ValidationError("--modbus \(url): unknown setting '\(item.name)' (baud, parity, stop, data)")
                }
            }
            serial = given ? settings : nil
        default:
            throw ValidationError("--modbus \(url): scheme must be tcp or rtu")
        }
    }

    func device(_ text: String, profiles: ProfileLibrary) throws -> ModbusDeviceConfig {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let unit = Int(parts[1]), (0...255).contains(unit), !parts[0].isEmpty else {
            throw ValidationError("--device \(text): use PROFILE:UNIT, e.g. sdm630:1")
        }
        let name = String(parts[0])
        let profile = try Self.profileID(name, in: profiles)
        var config = ModbusDeviceConfig(id: "\(name)_\(unit)", profile: profile, host: host, port: port, bus: serialDevice,
                                        unitId: unit)
        config.serial = serial
        // mbmd's way: an RS-485 meter named on a tcp:// bus sits behind a Modbus TCP gateway.
        if host != nil, let resolved = profiles[profile], !resolved.profile.connection.transports.contains(.tcp) {
            config.tcpGateway = true
        }
        return config
    }

    /// An exact profile id, or the one profile whose id contains `name` as a whole word part.
    static func profileID(_ name: String, in profiles: ProfileLibrary) throws -> String {
        let wanted = name.lowercased()
        if profiles[wanted] != nil { return wanted }
        let candidates = profiles.profiles.keys.filter { id in
            id.split(separator: "_").contains { $0.hasPrefix(wanted) } || id.hasPrefix(wanted)
        }.sorted()
        guard candidates.count == 1, let only = candidates.first else {
            let hint = candidates.isEmpty ? "no profile matches (see `phasor profiles`)" : "matches \(candidates.joined(separator: ", "))"
            throw ValidationError("--device \(name): \(hint)")
        }
        return only
    }
}
