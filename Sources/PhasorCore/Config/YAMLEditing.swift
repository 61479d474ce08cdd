import Yams

/// Changes a few values of a YAML document and writes it out again (comments are
/// lost; keys keep their order). `phasor simulate` uses it to point a site file at
/// simulated devices.
public enum YAMLEditing {
    public enum Value: Sendable, Hashable {
        case string(String)
        case int(Int)
        case bool(Bool)

        var node: Node {
            switch self {
            case .string(let s): Node(s, Tag(.str), .doubleQuoted)
            case .int(let i): Node(String(i), Tag(.int))
            case .bool(let b): Node(b ? "true" : "false", Tag(.bool))
            }
        }
    }

    /// One change: the value at `path` (mapping keys; a list element by its `id` or
    /// index) becomes `value`, or is removed when `value` is nil. Missing mappings
    /// on the way are created.
    public struct Edit: Sendable, Hashable {
        public var path: [String]
        public var value: Value?
        public init(_ path: [String], _ value: Value?) {
            self.path = path
            self.value = value
        }
    }

    public static func apply(_ edits: [Edit], to yaml: String) throws -> String {
        var root = try Yams.compose(yaml: yaml) ?? Node.mapping([:])
        for edit in edits { set(&root, path: edit.path[...], to: edit.value) }
        return try Yams.serialize(node: root, sortKeys: false)
    }

    private static func set(_ node: inout Node, path: ArraySlice<String>, to value: Value?) {
        guard let first = path.first else {
            if let value { node = value.node }
            return
        }
        let rest = path.dropFirst()
        switch node {
        case .mapping(var map):
            if rest.isEmpty {
                map[first] = value?.node
            } else {
                var child = map[first] ?? Node.mapping([:])
                set(&child, path: rest, to: value)
                map[first] = child
            }
            node = .mapping(map)
        case .sequence(var seq):
            let index = seq.firstIndex { element in
                element.mapping?.first(where: { $0.key.string == "id" })?.value.string == first
            } ?? Int(first).flatMap { seq.indices.contains($0) ? $0 : nil }
            guard let index else { return }
            var child = seq[index]
            set(&child, path: rest, to: value)
            seq[index] = child
            node = .sequence(seq)
        default:
            return
        }
    }
}
