import Foundation

/// Validates JSON (or YAML) documents against the project's schemas with Python's
/// jsonschema (an implementation none of us wrote), through scripts/validate-json.py.
public enum SchemaValidation {
    /// Nil when PHASOR_PYTHON is unset (scripts/test.sh sets it).
    public static func validate(
        _ documents: [[UInt8]], against schema: String, repositoryRoot: URL, fileExtension: String = "json"
    ) async throws -> (status: Int32, output: String)? {
        guard let python = ProcessInfo.processInfo.environment["PHASOR_PYTHON"] else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [String] = []
        for (i, d) in documents.enumerated() {
            let path = dir.appendingPathComponent("\(i).\(fileExtension)").path
            try Data(d).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let out = dir.appendingPathComponent("out.txt").path
        let p = try ChildProcess(
            python, [repositoryRoot.appendingPathComponent("scripts/validate-json.py").path,
                     repositoryRoot.appendingPathComponent("schemas/\(schema)").path] + files, outputFile: out)
        let status = await p.waitForExit(timeout: .seconds(30)) ?? -1
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }
}
