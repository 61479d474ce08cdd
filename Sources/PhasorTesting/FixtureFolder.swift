import Foundation

/// A test target's copied fixtures (a `Fixtures` resource folder with a SOURCES.md
/// naming where each file came from). Each target passes its own `Bundle.module` URL.
public struct FixtureFolder: Sendable {
    public let root: URL

    public init(_ root: URL) { self.root = root }

    public func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(path)))
    }

    /// Every fixture file, as a path relative to the folder, except SOURCES.md.
    public func all() throws -> [String] {
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        var paths: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            if relative != "SOURCES.md" { paths.append(relative) }
        }
        return paths.sorted()
    }
}
