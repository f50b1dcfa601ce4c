/// A JSON value, and the reader and writer of the control protocol's lines, without Foundation
/// (filamentd links no Foundation: decision 0511). Objects are written with sorted keys, so the same
/// value is the same bytes; slashes are not escaped; the text matches Foundation's JSONEncoder with
/// `.sortedKeys, .withoutEscapingSlashes` (and `.prettyPrinted` for `pretty`).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's text as written (validated JSON number syntax).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object; nil for anything else or a missing key.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
}

/// Why a text is not JSON: what was expected and the byte offset where it went wrong.
public struct JSONSyntaxError: Error, Equatable, CustomStringConvertible, Sendable {
    public var offset: Int
    public var message: String
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSONValue {
    /// Nesting bound of `parse`: a control request is two levels deep; hostile input stops here.
    public static let maxDepth = 64

    /// Parses one JSON text (RFC 8259; surrounding whitespace allowed, nothing else after the value).
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(JSONSyntaxError) -> JSONValue {
        var p = JSONReader(bytes: Array(bytes))
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.at == p.bytes.count else { throw p.error("unexpected text after the JSON value") }
        return v
    }

    /// Compact JSON text.
    public var text: String { String(decoding: bytes(pretty: false), as: UTF8.self) }

    /// The UTF-8 bytes; `pretty` indents by two spaces and writes `"key" : value` (Foundation's style).
    public func bytes(pretty: Bool) -> [UInt8] {
        var out: [UInt8] = []
        write(&out, pretty: pretty, indent: 0)
        return out
    }

    private func write(_ out: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .number(let n): out += Array(n.utf8)
        case .string(let s): Self.writeString(s, &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { Self.newline(&out, indent + 1) }
                item.write(&out, pretty: pretty, indent: indent + 1)
            }
            if pretty { Self.closing(&out, indent, empty: items.isEmpty) }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { Self.newline(&out, indent + 1) }
                Self.writeString(key, &out)
                out += pretty ? Array(" : ".utf8) : [UInt8(ascii: ":")]
                members[key]!.write(&out, pretty: pretty, indent: indent + 1)
            }
            if pretty { Self.closing(&out, indent, empty: members.isEmpty) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(10)
        out += [UInt8](repeating: 32, count: 2 * indent)
    }

    /// Before a closing bracket; an empty collection is written `[` blank line `]`, as Foundation does.
    private static func closing(_ out: inout [UInt8], _ indent: Int, empty: Bool) {
        if empty { out.append(10) }
        newline(&out, indent)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [92, b]
            case 92: out += [92, 92]
            case 8: out += [92, UInt8(ascii: "b")]
            case 12: out += [92, UInt8(ascii: "f")]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 0..<32: out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A recursive-descent reader over bytes, bounded by `JSONValue.maxDepth`.
private struct JSONReader {
    let bytes: [UInt8]
    var at = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(offset: at, message: message) }

    mutating func skipSpace() {
        while at < bytes.count, [32, 9, 10, 13].contains(bytes[at]) { at += 1 }
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard at < bytes.count else { throw error("the text ends where a value belongs") }
        switch bytes[at] {
        case UInt8(ascii: "{"):
            guard depth < JSONValue.maxDepth else { throw error("nested more than \(JSONValue.maxDepth) levels deep") }
            at += 1
            var members: [String: JSONValue] = [:]
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
            while true {
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw error("expected a key in quotes") }
                let key = try string()
                skipSpace()
                try expect(":")
                skipSpace()
                members[key] = try value(depth: depth + 1)
                skipSpace()
                if try endOrComma("}") { return .object(members) }
            }
        case UInt8(ascii: "["):
            guard depth < JSONValue.maxDepth else { throw error("nested more than \(JSONValue.maxDepth) levels deep") }
            at += 1
            var items: [JSONValue] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                if try endOrComma("]") { return .array(items) }
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character where a value belongs")
        }
    }

    mutating func expect(_ c: Unicode.Scalar) throws(JSONSyntaxError) {
        guard at < bytes.count, bytes[at] == UInt8(ascii: c) else { throw error("expected '\(c)'") }
        at += 1
    }

    /// After a member or item: true at the closing bracket, false after a comma.
    mutating func endOrComma(_ close: Unicode.Scalar) throws(JSONSyntaxError) -> Bool {
        guard at < bytes.count else { throw error("the text ends inside a '\(close == "}" ? "{" : "[")'") }
        if bytes[at] == UInt8(ascii: close) { at += 1; return true }
        guard bytes[at] == UInt8(ascii: ",") else { throw error("expected ',' or '\(close)'") }
        at += 1
        return false
    }

    mutating func literal(_ word: String) throws(JSONSyntaxError) {
        let w = Array(word.utf8)
        guard bytes.count - at >= w.count, Array(bytes[at..<at + w.count]) == w else { throw error("unexpected word where a value belongs") }
        at += w.count
    }

    mutating func number() throws(JSONSyntaxError) -> String {
        let start = at
        func digits() -> Int {
            let s = at
            while at < bytes.count, (48...57).contains(bytes[at]) { at += 1 }
            return at - s
        }
        if bytes[at] == UInt8(ascii: "-") { at += 1 }
        let lead = at
        let whole = digits()
        guard whole > 0 else { throw error("a number needs digits") }
        guard whole == 1 || bytes[lead] != UInt8(ascii: "0") else { throw error("a number cannot start with 0") }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits() > 0 else { throw error("a number needs digits after '.'") }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { throw error("a number needs digits in its exponent") }
        }
        return String(decoding: bytes[start..<at], as: UTF8.self)
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        at += 1  // the opening quote
        var out: [UInt8] = []
        while true {
            guard at < bytes.count else { throw error("the text ends inside a string") }
            let b = bytes[at]
            at += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw error("a string is not valid UTF-8")
                }
                return s
            case 92:
                guard at < bytes.count else { throw error("the text ends inside an escape") }
                let e = bytes[at]
                at += 1
                switch e {
                case UInt8(ascii: "\""), 92, UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard bytes.count - at >= 6, bytes[at] == 92, bytes[at + 1] == UInt8(ascii: "u") else {
                            throw error("a lone UTF-16 surrogate in \\u escapes")
                        }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("a lone UTF-16 surrogate in \\u escapes") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("a lone UTF-16 surrogate in \\u escapes") }
                    out += Array(String(Character(u)).utf8)
                default: throw error("unknown escape '\\\(Unicode.Scalar(e))'")
                }
            case 0..<32: throw error("a control character inside a string (write it as an escape)")
            default: out.append(b)
            }
        }
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - at >= 4 else { throw error("\\u needs four hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[at]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw error("\\u needs four hex digits")
            }
            v = v << 4 | d
            at += 1
        }
        return v
    }
}
