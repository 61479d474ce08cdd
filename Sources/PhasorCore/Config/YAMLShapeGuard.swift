import CYaml

/// Refuses YAML whose aliases would make composing or decoding it expensive,
/// before Yams composes it: an alias (or a list or mapping) used as a mapping key,
/// and documents whose aliases expand to more than `maxExpandedNodes` nodes.
///
/// Why: Yams checks every mapping for duplicate keys by hashing the keys; a key
/// that is an alias of an alias of … (`y: {? *l9 : 1}` after nine levels of ten
/// aliases each, 585 bytes) is hashed fully expanded, 10⁹ nodes, and the process
/// hangs at 100 % CPU. A site file needs neither: its keys are plain text. One
/// pass over libyaml's events (the parser Yams itself uses) costs as much as
/// reading the file.
enum YAMLShapeGuard {
    /// Far above any real site file (1000 charge points are ~20 000 nodes).
    static let maxExpandedNodes = 200_000

    struct Problem: Error {
        var line: Int
        var message: String
    }

    private enum Frame {
        case sequence(size: Int, anchor: String?)
        /// `expectingKey` toggles with every complete node inside the mapping.
        case mapping(size: Int, anchor: String?, expectingKey: Bool)
    }

    /// Returns nil when the document is fine or when libyaml itself refuses it
    /// (Yams then reports the syntax error with its own message).
    static func check(_ yaml: String) -> Problem? {
        var bytes = Array(yaml.utf8)
        if bytes.isEmpty { return nil }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeMutableBufferPointer { buffer -> Problem? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var anchors: [String: Int] = [:]
            var stack: [Frame] = []
            var total = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                // A node starts here: is it in key position, and how big is it expanded?
                var completed: (size: Int, anchor: String?)?
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SCALAR_EVENT:
                    completed = (1, string(event.data.scalar.anchor))
                case YAML_ALIAS_EVENT:
                    if case .mapping(_, _, true) = stack.last {
                        return Problem(line: line, message: "an alias cannot be a mapping key (keys are plain text)")
                    }
                    let name = string(event.data.alias.anchor) ?? ""
                    completed = (anchors[name] ?? 1, nil)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    if case .mapping(_, _, true) = stack.last {
                        return Problem(line: line, message: "a list or mapping cannot be a mapping key (keys are plain text)")
                    }
                    if event.type == YAML_SEQUENCE_START_EVENT {
                        stack.append(.sequence(size: 1, anchor: string(event.data.sequence_start.anchor)))
                    } else {
                        stack.append(.mapping(size: 1, anchor: string(event.data.mapping_start.anchor), expectingKey: true))
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    switch stack.popLast() {
                    case .sequence(let size, let anchor), .mapping(let size, let anchor, _): completed = (size, anchor)
                    case nil: return nil
                    }
                default:
                    break
                }
                guard let node = completed else { continue }
                if let anchor = node.anchor { anchors[anchor] = node.size }
                if stack.isEmpty {
                    total += node.size
                } else {
                    switch stack[stack.count - 1] {
                    case .sequence(let size, let anchor): stack[stack.count - 1] = .sequence(size: size + node.size, anchor: anchor)
                    case .mapping(let size, let anchor, let key):
                        stack[stack.count - 1] = .mapping(size: size + node.size, anchor: anchor, expectingKey: !key)
                    }
                }
                let open = stack.reduce(0) { sum, frame in
                    switch frame {
                    case .sequence(let size, _), .mapping(let size, _, _): sum + size
                    }
                }
                if total + open > maxExpandedNodes {
                    return Problem(
                        line: line,
                        message: "aliases expand this document to more than \(maxExpandedNodes) nodes; write the values out")
                }
            }
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
