/// One node of a YAML document as `YAMLParser` reads it: a scalar (always text; the reader of the
/// tree decides what a value means), a sequence or a mapping, with the 1-based line and column
/// where it starts. Mappings keep the document's order and never hold the same key twice.
public struct YAMLNode: Equatable, Sendable {
    public enum Content: Equatable, Sendable {
        /// `plain` is false for quoted and block scalars (`"yes"` stays text where `yes` may be a flag).
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public var content: Content
    /// 1-based line of the node's first character.
    public var line: Int
    /// 1-based column of the node's first character.
    public var column: Int

    public init(_ content: Content, line: Int = 1, column: Int = 1) {
        self.content = content
        self.line = line
        self.column = column
    }

    /// The text of a scalar; nil for a sequence or a mapping.
    public var string: String? {
        if case .scalar(let s, _) = content { return s }
        return nil
    }

    /// The same tree with every position set to 1:1, for comparing content only.
    public var withoutPositions: YAMLNode {
        switch content {
        case .scalar: return YAMLNode(content)
        case .sequence(let items): return YAMLNode(.sequence(items.map(\.withoutPositions)))
        case .mapping(let pairs):
            return YAMLNode(.mapping(pairs.map { YAMLPair(key: $0.key.withoutPositions, value: $0.value.withoutPositions) }))
        }
    }
}

/// One `key: value` entry of a mapping.
public struct YAMLPair: Equatable, Sendable {
    public var key: YAMLNode
    public var value: YAMLNode
    public init(key: YAMLNode, value: YAMLNode) { self.key = key; self.value = value }
}

/// Bounds on what a document may cost. A hostile or broken file hits one of these and gets an
/// error naming it, instead of taking the daemon's memory or stack.
public struct YAMLLimits: Sendable {
    /// Input size in bytes.
    public var maxBytes: Int
    /// Nesting of sequences and mappings (the top-level collection is depth 1).
    public var maxDepth: Int
    /// Scalars, sequences and mappings together.
    public var maxNodes: Int

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 64, maxNodes: Int = 100_000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }
}

/// Why a document was refused, with the 1-based position libyaml or the tree builder reported.
public struct YAMLError: Error, Equatable, CustomStringConvertible, Sendable {
    public var line: Int?
    public var column: Int?
    public var message: String
    public init(line: Int?, column: Int?, _ message: String) {
        self.line = line
        self.column = column
        self.message = message
    }
    public var description: String {
        guard let line else { return message }
        return "line \(line)\(column.map { ", column \($0)" } ?? ""): \(message)"
    }
}
