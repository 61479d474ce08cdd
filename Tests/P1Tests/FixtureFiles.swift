import Foundation
import PhasorTesting
import Testing

/// The telegrams copied from `testdata/p1` (see Fixtures/SOURCES.md).
enum FixtureFiles {
    static var folder: FixtureFolder {
        get throws { FixtureFolder(try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))) }
    }
    static var root: URL { get throws { try folder.root } }
    static func bytes(_ path: String) throws -> [UInt8] { try folder.bytes(path) }
    static func all() throws -> [String] { try folder.all() }
}
