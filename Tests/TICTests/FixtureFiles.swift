import Foundation
import Testing

/// The frames copied from `testdata/tic` (see Fixtures/SOURCES.md).
enum FixtureFiles {
    static var root: URL {
        get throws { try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)) }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: try root.appendingPathComponent(path)))
    }

    /// Every fixture file, as a path relative to Fixtures, except SOURCES.md.
    static func all() throws -> [String] {
        let base = try root
        let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey])
        var paths: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(base.standardizedFileURL.path.count + 1))
            if relative != "SOURCES.md" { paths.append(relative) }
        }
        return paths.sorted()
    }
}
