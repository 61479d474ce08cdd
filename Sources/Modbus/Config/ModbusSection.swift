import Foundation
import PhasorCore

/// The `modbus:` section of the site file: the devices on the site's buses, an
/// optional folder of the installer's own profiles, and the relays the gateway
/// switches for control.
///
/// ```yaml
/// modbus:
///   profile_folder: /etc/phasor/profiles
///   devices:
///     - {id: grid, profile: eastron_sdm630, bus: /dev/ttyUSB0, unit_id: 1}
///     - {id: garage, profile: alfen_eve, host: 192.168.1.40, setpoint_timeout_s: 10}
///   relays:
///     - {id: heat_pump, device: io_module, coil: 3, default: off}
/// ```
public struct ModbusSection: Sendable, Hashable, Decodable {
    public var profileFolder: String?
    public var devices: [ModbusDeviceConfig]
    public var relays: [RelayConfig]?

    public init(profileFolder: String? = nil, devices: [ModbusDeviceConfig], relays: [RelayConfig]? = nil) {
        self.profileFolder = profileFolder
        self.devices = devices
        self.relays = relays
    }

    /// The shipped profiles with the configured folder on top.
    public func profileLibrary() -> ProfileLibrary {
        ProfileLibrary.load(userFolder: profileFolder.map { URL(fileURLWithPath: $0) })
    }

    /// The checks that need the profiles: duplicate ids, unknown profiles, where
    /// each device is, settings that only apply to some kinds, relays' devices and
    /// the site's 20 Modbus TCP connections. Errors name the devices.
    public func validate(profiles: ProfileLibrary, file: String = "<site>") throws(ConfigError) {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(file: file, line: nil, field: "modbus.\(field)", message: message)
        }
        var seen: Set<String> = []
        let duplicates = devices.map(\.id).filter { !seen.insert($0).inserted }
        if !duplicates.isEmpty {
            throw fail("devices", "duplicate device id(s): \(Set(duplicates).sorted().joined(separator: ", "))")
        }
        for device in devices {
            guard !device.id.isEmpty, device.id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw fail("devices", "device id '\(device.id)': use letters, digits, '_' or '-' (it becomes a topic level)")
            }
            guard let profile = profiles[device.profile] else {
                let known = profiles.profiles.keys.sorted().joined(separator: ", ")
                throw fail("\(device.id).profile", "unknown profile '\(device.profile)' (known: \(known))")
            }
            do throws(ConfigError) {
                _ = try device.link(for: profile)
                _ = try device.target(for: profile)
            } catch {
                // The device checks know the field, not the file.
                throw ConfigError(file: file, line: nil, field: error.field, message: error.message)
            }
            if device.setpointTimeoutS != nil && profile.charger == nil {
                throw fail("\(device.id).setpoint_timeout_s", "only charge points take setpoints (\(profile.id) is a \(profile.kind.rawValue))")
            }
            if let limits = device.setpoints {
                try limits.validate(profile.profile.setpoints, device: device.id, fail: fail)
            }
            if let timeout = device.setpointTimeoutS, !(timeout > 0) {
                throw fail("\(device.id).setpoint_timeout_s", "must be positive seconds")
            }
        }
        if let error = validateTCPConnectionLimit(devices, profiles: profiles) {
            throw fail("devices", error.description)
        }
        var relayIDs: Set<String> = []
        for relay in relays ?? [] {
            guard relayIDs.insert(relay.id).inserted else { throw fail("relays", "duplicate relay id '\(relay.id)'") }
            try relay.validate(deviceIDs: Set(devices.map(\.id)), file: file)
        }
    }
}
