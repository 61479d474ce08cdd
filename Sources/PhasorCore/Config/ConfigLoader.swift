import Foundation
import Yams

/// Loads YAML configuration and device profiles into `Decodable` types, strictly:
/// an unknown key, a wrong type or a YAML syntax error is a `ConfigError` naming
/// the file, line and field, so an installer sees one line that says what to fix.
public enum ConfigLoader {
    public static func load<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        try decode(type, yaml: try read(url), file: url.path)
    }

    /// The file's text, or a `ConfigError` saying in plain words why it cannot be read.
    public static func read(_ url: URL) throws(ConfigError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ConfigError(file: url.path, line: nil, field: nil, message: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw ConfigError(file: url.path, line: nil, field: nil, message: "is a directory, not a YAML file")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigError(file: url.path, line: nil, field: nil, message: "cannot read file (permissions?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: url.path, line: nil, field: nil, message: "not UTF-8 text")
        }
        return text
    }

    public static func decode<T: Decodable>(_ type: T.Type, yaml: String, file: String = "<string>") throws -> T {
        try decodeDocument(type, yaml: yaml, file: file).value
    }

    /// Decodes and also returns the composed tree, so checks after decoding can name lines.
    public static func decodeDocument<T: Decodable>(_ type: T.Type, yaml: String, file: String = "<string>") throws
        -> (value: T, document: ConfigDocument)
    {
        // Before Yams composes anything: aliases as keys or expanding without bound would hang it.
        if let problem = YAMLShapeGuard.check(yaml) {
            throw ConfigError(file: file, line: problem.line, field: nil, message: "YAML error: \(problem.message)")
        }
        let node: Node
        do {
            node = try Yams.compose(yaml: yaml) ?? Node.mapping([:])
        } catch let error as YamlError {
            throw ConfigError(yamlError: error, file: file)
        }
        let value = try StrictNodeDecoder(file: file).decode(type, from: node)
        return (value, ConfigDocument(file: file, root: node))
    }
}

/// A decoded YAML file's tree, kept to give checks made after decoding (ranges that
/// depend on other fields, ids used twice across sections) the line of the field.
public struct ConfigDocument {
    public let file: String
    let root: Node

    public init(file: String) {
        self.file = file
        root = .mapping([:])
    }

    init(file: String, root: Node) {
        self.file = file
        self.root = root
    }

    /// An error at `field` (`meters[0].split_port`, `modbus.devices.cp1.unit_id`: a
    /// list element may be named by its index or by its `id`), with the field's line
    /// when the file has it (else the nearest enclosing one's).
    public func error(_ field: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: line(of: field), field: field, message: message)
    }

    /// Fills in the line of an error raised without one, from its field.
    public func locate(_ error: ConfigError) -> ConfigError {
        guard error.line == nil, let field = error.field else { return error }
        var located = error
        located.file = file
        located.line = line(of: field)
        return located
    }

    public func line(of field: String) -> Int? {
        var node = root
        var line = root.mark?.line
        for part in Self.components(field) {
            guard let next = Self.child(of: node, named: part) else { break }
            node = next
            line = next.mark?.line ?? line
        }
        return line
    }

    static func components(_ field: String) -> [String] {
        var parts: [String] = []
        var current = ""
        for c in field {
            switch c {
            case ".", "[", "]":
                if !current.isEmpty { parts.append(current) }
                current = ""
            default: current.append(c)
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }

    static func child(of node: Node, named part: String) -> Node? {
        switch node {
        case .mapping(let map):
            if let value = map.first(where: { $0.key.string == part })?.value { return value }
            // `pulses.gas`: an id inside the mapping's (only) list.
            for (_, value) in map { if let found = element(of: value, named: part) { return found } }
            return nil
        case .sequence:
            return element(of: node, named: part)
        default:
            return nil
        }
    }

    private static func element(of node: Node, named part: String) -> Node? {
        guard case .sequence(let seq) = node else { return nil }
        if let byID = seq.first(where: { $0.mapping?.first(where: { $0.key.string == "id" })?.value.string == part }) { return byID }
        if let index = Int(part), seq.indices.contains(index) { return seq[index] }
        return nil
    }
}

/// One configuration problem, rendered as `file:line: field: message`.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int?, field: String?, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let field, !field.isEmpty { s += "\(field): " }
        return s + message
    }
}

extension ConfigError {
    init(yamlError: YamlError, file: String) {
        switch yamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let ctx = context.map { "\($0.text) " } ?? ""
            self.init(file: file, line: mark.line, field: nil, message: "YAML syntax error: \(ctx)\(problem)")
        case .composer(let context, let problem, let mark, _):
            let ctx = context.map { "\($0.text) " } ?? ""
            self.init(file: file, line: mark.line, field: nil, message: "YAML error: \(ctx)\(problem)")
        default:
            self.init(file: file, line: nil, field: nil, message: "YAML error: \(yamlError)")
        }
    }
}
