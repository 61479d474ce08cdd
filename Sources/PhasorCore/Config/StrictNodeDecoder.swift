import Foundation
import Yams

/// A `Decoder` over a composed YAML node tree that keeps line numbers and refuses
/// what Yams' own decoder silently ignores: keys the target type does not know.
///
/// Written here because no kept package offers strict YAML decoding with line
/// numbers; it is small and covered by `ConfigLoaderTests`.
///
/// Keys: YAML `snake_case` keys match Swift `camelCase` properties
/// (`offline_queue` → `offlineQueue`); dictionary keys (device ids) stay as written.
struct StrictNodeDecoder {
    let file: String

    func decode<T: Decodable>(_ type: T.Type, from node: Node) throws -> T {
        let decoder = NodeDecoder(node: node, codingPath: [], yamlPath: [], file: file)
        do {
            return try T(from: decoder)
        } catch let error as ConfigError {
            throw error
        } catch let error as DecodingError {
            throw locate(error, in: node)
        }
    }

    /// Maps a `DecodingError` thrown by a type's own `init(from:)` (an enum's unknown
    /// raw value, a custom validation) back to the line of the offending node.
    private func locate(_ error: DecodingError, in root: Node) -> ConfigError {
        let context: DecodingError.Context
        switch error {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
            context = c
        @unknown default:
            return ConfigError(file: file, line: nil, field: nil, message: "\(error)")
        }
        var node = root
        var names: [String] = []
        for key in context.codingPath {
            if let index = key.intValue, case .sequence(let seq) = node, index < seq.count {
                node = seq[index]
                names.append("[\(index)]")
            } else if case .mapping(let map) = node,
                let entry = map.first(where: { k, _ in
                    guard let s = k.string else { return false }
                    return s == key.stringValue || NodeDecoder.camelCase(s) == key.stringValue
                })
            {
                node = entry.value
                names.append(entry.key.string ?? key.stringValue)
            } else {
                names.append(key.stringValue)
            }
        }
        var message = context.debugDescription
        if case .keyNotFound(let key, _) = error {
            names.append(NodeDecoder.snakeCase(key.stringValue))
            message = "required field is missing"
        }
        return ConfigError(file: file, line: node.mark?.line, field: NodeDecoder.render(names), message: message)
    }
}

/// The decoder proper. `yamlPath` holds the names as the user wrote them, for messages.
struct NodeDecoder: Decoder {
    let node: Node
    let codingPath: [any CodingKey]
    let yamlPath: [String]
    let file: String
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func error(_ message: String, at node: Node? = nil, extra: String? = nil) -> ConfigError {
        var names = yamlPath
        if let extra { names.append(extra) }
        return ConfigError(file: file, line: (node ?? self.node).mark?.line, field: Self.render(names), message: message)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let mapping) = node else {
            throw error("expected a mapping (key: value lines), found \(Self.describe(node))")
        }
        var entries: [String: (yamlKey: String, value: Node)] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.string else { throw error("keys must be plain text", at: keyNode) }
            let swiftName: String
            if Key(stringValue: name) != nil {
                swiftName = name
            } else if Key(stringValue: Self.camelCase(name)) != nil {
                swiftName = Self.camelCase(name)
            } else {
                throw error("unknown field", at: keyNode, extra: name)
            }
            if entries[swiftName] != nil { throw error("field given twice", at: keyNode, extra: name) }
            entries[swiftName] = (name, value)
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, entries: entries))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let sequence) = node else {
            throw error("expected a list, found \(Self.describe(node))")
        }
        return UnkeyedContainer(decoder: self, elements: Array(sequence))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValueContainer(decoder: self) }

    func child(_ node: Node, key: any CodingKey, yamlName: String) -> NodeDecoder {
        NodeDecoder(node: node, codingPath: codingPath + [key], yamlPath: yamlPath + [yamlName], file: file)
    }

    // MARK: Scalars

    var isNull: Bool {
        guard case .scalar(let s) = node else { return false }
        return s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    func scalar<T>(_ type: T.Type, _ what: String, _ construct: (Node.Scalar) -> T?) throws -> T {
        guard case .scalar(let s) = node else { throw error("expected \(what), found \(Self.describe(node))") }
        guard let value = construct(s) else { throw error("expected \(what), found '\(s.string)'") }
        return value
    }

    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try scalar(T.self, "a whole number") { s in
            guard let wide = Int64.construct(from: s) else { return nil }
            return T(exactly: wide)
        }
    }

    // MARK: Naming

    static func camelCase(_ s: String) -> String {
        guard s.contains("_") else { return s }
        let parts = s.split(separator: "_", omittingEmptySubsequences: true)
        guard let first = parts.first else { return s }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func snakeCase(_ s: String) -> String {
        var out = ""
        for c in s {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }

    static func render(_ names: [String]) -> String {
        var out = ""
        for n in names {
            if n.hasPrefix("[") || out.isEmpty { out += n } else { out += "." + n }
        }
        return out
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): "'\(s.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let entries: [String: (yamlKey: String, value: Node)]
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { entries[key.stringValue] != nil }

    private func child(_ key: Key) throws -> NodeDecoder {
        guard let entry = entries[key.stringValue] else {
            throw decoder.error("required field is missing", extra: NodeDecoder.snakeCase(key.stringValue))
        }
        return decoder.child(entry.value, key: key, yamlName: entry.yamlKey)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).isNull }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try child(key).decodeValue(T.self)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard entries[key.stringValue] != nil else { return nil }
        let c = try child(key)
        return c.isNull ? nil : try c.decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    { try child(key).container(keyedBy: type) }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "[\(intValue ?? 0)]" }
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let elements: [Node]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(decoder: NodeDecoder, elements: [Node]) {
        self.decoder = decoder
        self.elements = elements
    }

    private mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else { throw decoder.error("list has too few elements") }
        defer { currentIndex += 1 }
        return decoder.child(elements[currentIndex], key: IndexKey(currentIndex), yamlName: "[\(currentIndex)]")
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if decoder.child(elements[currentIndex], key: IndexKey(currentIndex), yamlName: "").isNull {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    { try next().container(keyedBy: type) }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.scalar(Bool.self, "true or false", Bool.construct) }
    func decode(_ type: String.Type) throws -> String { try decoder.scalar(String.self, "text") { $0.string } }
    /// `.inf` and `.nan` are YAML numbers, but no setting means them: refused.
    func decode(_ type: Double.Type) throws -> Double {
        try decoder.scalar(Double.self, "a finite number") { Double.construct(from: $0).flatMap { $0.isFinite ? $0 : nil } }
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeInteger(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decodeInteger(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decodeInteger(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeInteger(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeInteger(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeInteger(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decodeInteger(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decodeInteger(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decodeInteger(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decodeInteger(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(T.self) }
}

extension NodeDecoder {
    /// Decodes a value, routing the primitive types through the scalar checks
    /// (so `port: abc` says "expected a whole number" with its line).
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        let single = SingleValueContainer(decoder: self)
        switch type {
        case is String.Type: return try single.decode(String.self) as! T
        case is Bool.Type: return try single.decode(Bool.self) as! T
        case is Double.Type: return try single.decode(Double.self) as! T
        case is Int.Type: return try single.decode(Int.self) as! T
        case is UInt16.Type: return try single.decode(UInt16.self) as! T
        case is UInt8.Type: return try single.decode(UInt8.self) as! T
        case is Int64.Type: return try single.decode(Int64.self) as! T
        case is UInt32.Type: return try single.decode(UInt32.self) as! T
        case is URL.Type:
            let s = try single.decode(String.self)
            guard let url = URL(string: s) else { throw error("expected a URL, found '\(s)'") }
            return url as! T
        default:
            do {
                return try T(from: self)
            } catch let e as ConfigError {
                throw e
            } catch let e as DecodingError {
                // A type's own validation (an enum's raw value): report at this node.
                if case .dataCorrupted(let c) = e, c.codingPath.count <= codingPath.count {
                    // An enum's unknown value: say what is allowed, not Swift's "Cannot initialize …".
                    if let allowed = Self.allowedValues(T.self) {
                        let found = if case .scalar(let s) = node { "'\(s.string)'" } else { Self.describe(node) }
                        throw error("\(found) is not allowed; use one of: \(allowed.joined(separator: ", "))")
                    }
                    throw error(c.debugDescription)
                }
                throw e
            }
        }
    }
}

extension NodeDecoder {
    /// The raw values of a `CaseIterable` enum (every enum a site file or profile names is one).
    static func allowedValues<T>(_ type: T.Type) -> [String]? {
        guard let iterable = type as? any CaseIterable.Type else { return nil }
        return caseNames(iterable)
    }

    private static func caseNames<C: CaseIterable>(_ type: C.Type) -> [String] {
        C.allCases.map { value in (value as? any RawRepresentable).map { "\($0.rawValue)" } ?? "\(value)" }
    }
}
