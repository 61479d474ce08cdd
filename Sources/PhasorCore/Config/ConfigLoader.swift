import Foundation
import Yams

/// Loads YAML configuration and device profiles into `Decodable` types, strictly:
/// an unknown key, a wrong type or a YAML syntax error is a `ConfigError` naming
/// the file, line and field, so an installer sees one line that says what to fix.
public enum ConfigLoader {
    public static func load<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ConfigError(file: url.path, line: nil, field: nil, message: "cannot read file: \(error.localizedDescription)")
        }
        return try decode(type, yaml: text, file: url.path)
    }

    public static func decode<T: Decodable>(_ type: T.Type, yaml: String, file: String = "<string>") throws -> T {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                node = Node.mapping([:])
                return try StrictNodeDecoder(file: file).decode(type, from: node)
            }
            node = composed
        } catch let error as YamlError {
            throw ConfigError(yamlError: error, file: file)
        }
        return try StrictNodeDecoder(file: file).decode(type, from: node)
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
