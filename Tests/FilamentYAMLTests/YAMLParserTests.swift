import Testing
@testable import FilamentYAML

@Suite struct YAMLParserTests {
    func parse(_ text: String, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> YAMLNode {
        guard let n = try YAMLParser.parse(text, limits: limits) else {
            throw YAMLError(line: nil, column: nil, "no document")
        }
        return n
    }

    func error(_ text: String, limits: YAMLLimits = YAMLLimits()) -> YAMLError? {
        do {
            _ = try YAMLParser.parse(text, limits: limits)
            return nil
        } catch { return error }
    }

    /// Block mappings, sequences and flow collections become a tree in document order with 1-based positions.
    @Test func treeWithPositions() throws {
        let root = try parse("""
        # comment
        name: roof
        list:
          - a
          - [b, "c d"]
        map: {x: 1, y: ''}
        """)
        guard case .mapping(let top) = root.content else { Issue.record("not a mapping"); return }
        #expect(top.map { $0.key.string } == ["name", "list", "map"])
        #expect(top[0].key.line == 2 && top[0].key.column == 1)
        #expect(top[0].value.string == "roof" && top[0].value.column == 7)
        guard case .sequence(let items) = top[1].value.content else { Issue.record("not a sequence"); return }
        #expect(items[0] == YAMLNode(.scalar("a", plain: true), line: 4, column: 5))
        #expect(items[1].withoutPositions == YAMLNode(.sequence([YAMLNode(.scalar("b", plain: true)), YAMLNode(.scalar("c d", plain: false))])))
        #expect(items[1].line == 5)
        guard case .mapping(let inner) = top[2].value.content else { Issue.record("not a mapping"); return }
        #expect(inner.map(\.value.string) == ["1", ""])
        #expect(inner[1].value.content == .scalar("", plain: false))
    }

    /// Empty text and a file of comments hold no document.
    @Test func emptyIsNoDocument() throws {
        #expect(try YAMLParser.parse("") == nil)
        #expect(try YAMLParser.parse("# only a comment\n\n") == nil)
    }

    /// A key with nothing after it is an empty plain scalar (YAML's null), kept as text.
    @Test func emptyValueIsEmptyPlainScalar() throws {
        let root = try parse("a:\nb: ~\n")
        guard case .mapping(let m) = root.content else { Issue.record("not a mapping"); return }
        #expect(m[0].value.content == .scalar("", plain: true))
        #expect(m[1].value.content == .scalar("~", plain: true))
    }

    /// Syntax errors carry libyaml's words and the line and column of the problem.
    @Test func syntaxErrorHasPosition() throws {
        let e = try #require(error("name: a\n  - b: [\n"))
        #expect(e.line == 2)
        #expect(e.column != nil)
        #expect(!e.message.isEmpty)
        let unclosed = try #require(error("a: [1, 2\nb: 3\n"))
        #expect(unclosed.line != nil)
        #expect(unclosed.description.hasPrefix("line "))
    }

    /// A tab used for indentation is a clear error, not a silent misparse.
    @Test func tabIndentation() throws {
        let e = try #require(error("a:\n\tb: 1\n"))
        #expect(e.line == 2)
        #expect(e.message.contains("tab"))
    }

    /// The same key twice in one mapping is an error on the second occurrence, naming the first.
    @Test func duplicateKeysRefused() throws {
        let e = try #require(error("a: 1\nb:\n  c: 1\n  c: 2\n"))
        #expect(e.line == 4 && e.column == 3)
        #expect(e.message == "'c' appears twice in one mapping (first on line 3)")
        // The same key in different mappings is fine.
        #expect(error("a: {k: 1}\nb: {k: 2}\n") == nil)
        // Flow mappings too.
        #expect(error("{x: 1, x: 2}") != nil)
    }

    /// Aliases are refused outright, so a "billion laughs" document costs nothing.
    @Test func aliasesRefused() throws {
        let e = try #require(error("a: &x [1, 2]\nb: *x\n"))
        #expect(e.line == 2)
        #expect(e.message.contains("alias '*x'"))
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<10 { bomb += "b\(i): &b\(i) [" + Array(repeating: i == 1 ? "*a" : "*b\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        #expect(error(bomb)?.message.contains("alias") == true)
    }

    /// Complex (non-scalar) keys are refused.
    @Test func collectionKeysRefused() throws {
        let e = try #require(error("? [a, b]\n: 1\n"))
        #expect(e.line == 1)
        #expect(e.message.contains("mapping key must be a single value"))
    }

    /// A second document in the stream is refused.
    @Test func secondDocumentRefused() throws {
        let e = try #require(error("a: 1\n---\nb: 2\n"))
        #expect(e.line == 2)
        #expect(e.message.contains("second document"))
        #expect(error("---\na: 1\n...\n") == nil)
    }

    /// Nesting beyond the limit stops early with the line of the offending level; deep input cannot exhaust the stack.
    @Test func depthLimit() throws {
        #expect(error("a: {b: {c: 1}}", limits: YAMLLimits(maxDepth: 3)) == nil)
        let e = try #require(error("a: {b: {c: {d: 1}}}", limits: YAMLLimits(maxDepth: 3)))
        #expect(e.message.contains("nested more than 3"))
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(error(deep)?.message.contains("nested more than 64") == true)
    }

    /// Node count and byte size are bounded.
    @Test func sizeLimits() throws {
        let many = "[" + Array(repeating: "1", count: 200).joined(separator: ",") + "]"
        #expect(error(many, limits: YAMLLimits(maxNodes: 201)) == nil)
        #expect(error(many, limits: YAMLLimits(maxNodes: 200))?.message.contains("more than 200 values") == true)
        let big = String(repeating: "a", count: 2000)
        #expect(error(big, limits: YAMLLimits(maxBytes: 1999))?.message.contains("2000 bytes") == true)
    }

    /// Large flat collections build in linear time (a hang guard, not a benchmark: the quadratic
    /// builder this replaced needed minutes for this input).
    @Test(.timeLimit(.minutes(1))) func largeCollectionsAreLinear() throws {
        let n = 100_000
        let map = (0..<n).map { "k\($0): v" }.joined(separator: "\n")
        let root = try parse(map, limits: YAMLLimits(maxBytes: 4 << 20, maxNodes: 3 * n))
        guard case .mapping(let pairs) = root.content else { Issue.record("not a mapping"); return }
        #expect(pairs.count == n && pairs.last?.value.line == n)
        let seq = "[" + Array(repeating: "x", count: n).joined(separator: ",") + "]"
        guard case .sequence(let items) = try parse(seq, limits: YAMLLimits(maxNodes: 3 * n)).content else { Issue.record("not a sequence"); return }
        #expect(items.count == n)
    }

    /// Bytes that are not UTF-8 are an error with the line they are on.
    @Test func invalidUTF8() throws {
        do {
            _ = try YAMLParser.parse(bytes: Array("a: 1\nb: ".utf8) + [0xff, 0xfe, 0x41] + [10])
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.message.contains("UTF-8"))
        }
    }

    /// Quoted scalars keep their text (escapes decoded) and are marked as not plain.
    @Test func quotedScalars() throws {
        let root = try parse("a: \"yes\"\nb: 'it''s'\nc: \"tab\\there\"\nd: yes\n")
        guard case .mapping(let m) = root.content else { Issue.record("not a mapping"); return }
        #expect(m.map(\.value.content) == [
            .scalar("yes", plain: false), .scalar("it's", plain: false), .scalar("tab\there", plain: false), .scalar("yes", plain: true),
        ])
    }

    /// The writer's output of a small tree is the YAML a person would write, and reads back the same.
    @Test func writerBlockAndFlow() throws {
        let tree = YAMLNode(.mapping([
            YAMLPair(key: YAMLNode(.scalar("name", plain: true)), value: YAMLNode(.scalar("roof", plain: true))),
            YAMLPair(key: YAMLNode(.scalar("list", plain: true)), value: YAMLNode(.sequence([YAMLNode(.scalar("a: b", plain: false))]))),
        ]))
        let block = try YAMLWriter.text(tree)
        #expect(block.contains("name: roof\n"))
        #expect(try YAMLParser.parse(block)?.withoutPositions == tree)
        let flow = try YAMLWriter.text(tree, style: .flow)
        #expect(flow.hasPrefix("{"))
        #expect(try YAMLParser.parse(flow)?.withoutPositions == tree)
    }
}
