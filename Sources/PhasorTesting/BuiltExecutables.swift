import Foundation

/// Phasor's executables in the build folder: beside the running test bundle,
/// benchmark or `phasor` itself (the demo starts its siblings).
public enum BuiltExecutables {
    public static let directory: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }()

    public static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}
