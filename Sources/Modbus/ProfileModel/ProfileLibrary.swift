import Foundation
import PhasorCore

/// All device profiles the gateway knows: the ones shipped in the bundle and the
/// installer's own folder, where a file with the same `id` replaces the shipped one.
public struct ProfileLibrary: Sendable {
    public private(set) var profiles: [String: ResolvedProfile] = [:]
    /// Files that failed to load; the rest of the library is still usable.
    public private(set) var problems: [ConfigError] = []

    public init() {}

    /// Shipped profiles, then the user folder (if given) on top.
    public static func load(userFolder: URL? = nil) -> ProfileLibrary {
        var library = ProfileLibrary()
        if let shipped = shippedProfilesFolder { library.add(folder: shipped) }
        if let userFolder { library.add(folder: userFolder) }
        return library
    }

    /// The bundled `Profiles` folder (meters/, inverters/, chargers/).
    public static var shippedProfilesFolder: URL? {
        Bundle.module.url(forResource: "Profiles", withExtension: nil)
    }

    /// Every `.yaml`/`.yml` file under `folder`, sorted so overrides are deterministic.
    public static func profileFiles(in folder: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }
            .filter { ["yaml", "yml"].contains($0.pathExtension.lowercased()) }
            .sorted { $0.path < $1.path }
    }

    public mutating func add(folder: URL) {
        for file in Self.profileFiles(in: folder) {
            do {
                let profile = try Self.loadProfile(at: file)
                profiles[profile.id] = profile
            } catch {
                problems.append(error)
            }
        }
    }

    public static func loadProfile(at file: URL) throws(ConfigError) -> ResolvedProfile {
        let decoded: DeviceProfile
        do {
            decoded = try ConfigLoader.load(DeviceProfile.self, from: file)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: file.path, line: nil, field: nil, message: "\(error)")
        }
        return try ResolvedProfile(decoded, file: file.path)
    }

    public static func parseProfile(yaml: String, file: String = "<string>") throws(ConfigError) -> ResolvedProfile {
        let decoded: DeviceProfile
        do {
            decoded = try ConfigLoader.decode(DeviceProfile.self, yaml: yaml, file: file)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: file, line: nil, field: nil, message: "\(error)")
        }
        return try ResolvedProfile(decoded, file: file)
    }

    public subscript(id: String) -> ResolvedProfile? { profiles[id] }
}
