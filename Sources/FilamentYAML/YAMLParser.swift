import CYAML

/// Reads one YAML document into a `YAMLNode` tree with libyaml's event parser (docs/decisions/0515).
///
/// Stricter than YAML itself, because the input is a configuration file that may be hostile or
/// mistyped: aliases (`*name`) are refused (no "billion laughs"), a key twice in one mapping is an
/// error, mapping keys must be scalars, one document per file, and `YAMLLimits` bounds bytes,
/// nesting and node count. Every error carries a 1-based line and column.
public enum YAMLParser {
    /// The document's root node, or nil when the text holds no document (empty, only comments).
    public static func parse(_ text: String, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> YAMLNode? {
        try parse(bytes: Array(text.utf8), limits: limits)
    }

    public static func parse(bytes: [UInt8], limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> YAMLNode? {
        guard bytes.count <= limits.maxBytes else {
            throw YAMLError(line: nil, column: nil, "the document is \(bytes.count) bytes; at most \(limits.maxBytes) are read")
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(line: nil, column: nil, "cannot initialise the YAML parser (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }
        let result: Result<YAMLNode?, YAMLError> = bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = TreeBuilder(limits: limits)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    return .failure(parserError(parser, bytes))
                }
                defer { yaml_event_delete(&event) }
                do throws(YAMLError) {
                    if try builder.take(&event) { return .success(builder.root) }
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    /// libyaml's own words ("did not find expected key"), with its position and what it was reading.
    static func parserError(_ parser: yaml_parser_t, _ bytes: [UInt8]) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        if parser.error == YAML_READER_ERROR {
            // Encoding problems carry a byte offset instead of a mark.
            let offset = min(parser.problem_offset, bytes.count)
            let line = bytes[..<offset].reduce(1) { $1 == 10 ? $0 + 1 : $0 }
            return YAMLError(line: line, column: nil, "\(problem) (the file must be UTF-8 text)")
        }
        if parser.error == YAML_MEMORY_ERROR { return YAMLError(line: nil, column: nil, "out of memory") }
        var message = problem
        if character(at: parser.problem_mark, in: bytes) == "\t" {
            message = "a tab character where YAML allows only spaces (indent with spaces)"
        }
        if let context = parser.context.map({ String(cString: $0) }), !context.isEmpty {
            message += " (\(context) that starts on line \(parser.context_mark.line + 1))"
        }
        return YAMLError(line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1, message)
    }
}

extension YAMLParser {
    /// The character at a libyaml mark (0-based line, 0-based column in characters), if any.
    static func character(at mark: yaml_mark_t, in bytes: [UInt8]) -> Character? {
        let lines = bytes.split(separator: 10, maxSplits: Int(mark.line) + 1, omittingEmptySubsequences: false)
        guard Int(mark.line) < lines.count else { return nil }
        let text = String(decoding: lines[Int(mark.line)], as: UTF8.self).unicodeScalars
        guard Int(mark.column) < text.count else { return nil }
        return Character(text[text.index(text.startIndex, offsetBy: Int(mark.column))])
    }
}

/// Turns the event stream into a tree with an explicit stack (no recursion on input depth). Frames
/// are objects so that appending to the collection being built never copies it (linear time).
private struct TreeBuilder {
    final class Frame {
        let isMapping: Bool
        let line: Int, column: Int
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var key: YAMLNode?
        var seen: [String: Int] = [:]
        init(isMapping: Bool, line: Int, column: Int) { self.isMapping = isMapping; self.line = line; self.column = column }
    }

    let limits: YAMLLimits
    var stack: [Frame] = []
    var root: YAMLNode?
    var nodes = 0
    var documents = 0

    init(limits: YAMLLimits) { self.limits = limits }

    /// Consumes one event; true at the end of the stream.
    mutating func take(_ event: inout yaml_event_t) throws(YAMLError) -> Bool {
        let line = Int(event.start_mark.line) + 1, column = Int(event.start_mark.column) + 1
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return true
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                throw YAMLError(line: line, column: column, "a second document ('---'); the file must hold one")
            }
        case YAML_ALIAS_EVENT:
            let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
            throw YAMLError(line: line, column: column, "alias '*\(name)' is not supported; write the value out in full")
        case YAML_SCALAR_EVENT:
            try count(line, column)
            let s = event.data.scalar
            let text = s.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self)
            } ?? ""
            try attach(YAMLNode(.scalar(text, plain: s.style == YAML_PLAIN_SCALAR_STYLE), line: line, column: column))
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            try count(line, column)
            guard stack.count < limits.maxDepth else {
                throw YAMLError(line: line, column: column, "nested more than \(limits.maxDepth) levels deep")
            }
            stack.append(Frame(isMapping: event.type == YAML_MAPPING_START_EVENT, line: line, column: column))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let f = stack.popLast() else { throw YAMLError(line: line, column: column, "unbalanced end of a collection") }
            let content: YAMLNode.Content = f.isMapping ? .mapping(f.pairs) : .sequence(f.items)
            f.pairs = []
            f.items = []
            try attach(YAMLNode(content, line: f.line, column: f.column))
        default:
            break  // stream start, document end, no event
        }
        return false
    }

    mutating func count(_ line: Int, _ column: Int) throws(YAMLError) {
        nodes += 1
        guard nodes <= limits.maxNodes else {
            throw YAMLError(line: line, column: column, "more than \(limits.maxNodes) values in one document")
        }
    }

    /// Adds a finished node to the collection being built, or makes it the root.
    mutating func attach(_ node: YAMLNode) throws(YAMLError) {
        guard let top = stack.last else {
            root = node
            return
        }
        if !top.isMapping {
            top.items.append(node)
        } else if let key = top.key {
            top.pairs.append(YAMLPair(key: key, value: node))
            top.key = nil
        } else {
            guard let name = node.string else {
                throw YAMLError(line: node.line, column: node.column, "a mapping key must be a single value, not a list or mapping")
            }
            if let first = top.seen[name] {
                throw YAMLError(line: node.line, column: node.column, "'\(name)' appears twice in one mapping (first on line \(first))")
            }
            top.seen[name] = node.line
            top.key = node
        }
    }
}
