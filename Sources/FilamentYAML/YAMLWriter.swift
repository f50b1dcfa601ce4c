import CYAML

/// Writes a `YAMLNode` tree as YAML text through libyaml's emitter, which chooses quoting so that
/// `YAMLParser` reads back the same tree. Plain scalars that YAML would read as something else
/// are quoted by libyaml.
public enum YAMLWriter {
    public enum Style: Sendable { case block, flow }

    public static func text(_ root: YAMLNode, style: Style = .block) throws(YAMLError) -> String {
        var emitter = yaml_emitter_t()
        guard yaml_emitter_initialize(&emitter) == 1 else {
            throw YAMLError(line: nil, column: nil, "cannot initialise the YAML emitter (out of memory)")
        }
        defer { yaml_emitter_delete(&emitter) }
        let sink = Sink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        yaml_emitter_set_output(&emitter, { data, buffer, size in
            guard let data, let buffer else { return 0 }
            Unmanaged<Sink>.fromOpaque(data).takeUnretainedValue().bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
            return 1
        }, context)
        yaml_emitter_set_unicode(&emitter, 1)
        yaml_emitter_set_width(&emitter, -1)
        try withExtendedLifetime(sink) { () throws(YAMLError) in
            try emit(&emitter) { yaml_stream_start_event_initialize(&$0, YAML_UTF8_ENCODING) }
            try emit(&emitter) { yaml_document_start_event_initialize(&$0, nil, nil, nil, 1) }
            try node(root, style, &emitter)
            try emit(&emitter) { yaml_document_end_event_initialize(&$0, 1) }
            try emit(&emitter) { yaml_stream_end_event_initialize(&$0) }
        }
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    private final class Sink { var bytes: [UInt8] = [] }

    private static func node(_ n: YAMLNode, _ style: Style, _ emitter: inout yaml_emitter_t) throws(YAMLError) {
        switch n.content {
        case .scalar(let s, let plain):
            var value = Array(s.utf8)
            let scalarStyle = plain ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE
            let count = Int32(value.count)
            try value.withUnsafeMutableBufferPointer { buffer throws(YAMLError) in
                let base = buffer.baseAddress
                try emit(&emitter) { yaml_scalar_event_initialize(&$0, nil, nil, base, count, plain ? 1 : 0, 1, scalarStyle) }
            }
        case .sequence(let items):
            let s = style == .flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE
            try emit(&emitter) { yaml_sequence_start_event_initialize(&$0, nil, nil, 1, s) }
            for item in items { try node(item, style, &emitter) }
            try emit(&emitter) { yaml_sequence_end_event_initialize(&$0) }
        case .mapping(let pairs):
            let s = style == .flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE
            try emit(&emitter) { yaml_mapping_start_event_initialize(&$0, nil, nil, 1, s) }
            for p in pairs {
                try node(p.key, style, &emitter)
                try node(p.value, style, &emitter)
            }
            try emit(&emitter) { yaml_mapping_end_event_initialize(&$0) }
        }
    }

    /// Builds one event with `make` and hands it to the emitter (which frees it).
    private static func emit(_ emitter: inout yaml_emitter_t, _ make: (inout yaml_event_t) -> Int32) throws(YAMLError) {
        var event = yaml_event_t()
        guard make(&event) == 1 else { throw YAMLError(line: nil, column: nil, "cannot build a YAML event (out of memory)") }
        guard yaml_emitter_emit(&emitter, &event) == 1 else {
            let problem = emitter.problem.map { String(cString: $0) } ?? "unknown error"
            throw YAMLError(line: nil, column: nil, "cannot write YAML: \(problem)")
        }
    }
}
