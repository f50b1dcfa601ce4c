/// Selects interfaces by name: exact names and shell-style globs (`*`, `?`, `[abc]`, `[a-z]`,
/// `[!x]`, `\` escapes), with the same meaning as fnmatch(3) without flags. Pure: no system calls.
/// A name matches when any include pattern matches and no exclude pattern (written `!pattern`) does.
public struct InterfaceMatcher: Sendable, Equatable {
    public var include: [String]
    public var exclude: [String]

    /// `patterns`: e.g. `["eth*", "wlan0", "!eth9"]`. A leading `!` makes a pattern an exclusion.
    public init(_ patterns: [String]) {
        var inc: [String] = [], exc: [String] = []
        for p in patterns {
            if p.hasPrefix("!") { exc.append(String(p.dropFirst())) } else { inc.append(p) }
        }
        include = inc
        exclude = exc
    }

    public func matches(_ name: String) -> Bool {
        include.contains { Self.glob($0, matches: name) } && !exclude.contains { Self.glob($0, matches: name) }
    }

    /// The links whose names match, sorted by interface index (deterministic order).
    public func select<S: Sequence>(_ links: S) -> [LinkInfo] where S.Element == LinkInfo {
        links.filter { matches($0.name) }.sorted { $0.interface < $1.interface }
    }

    /// fnmatch(3)-style glob match (no flags), iterative with single-star backtracking: linear
    /// time in practice, never recursive, no allocation beyond the UTF-8 views.
    public static func glob(_ pattern: String, matches name: String) -> Bool {
        let p = Array(pattern.utf8), s = Array(name.utf8)
        var pi = 0, si = 0
        var starP = -1, starS = 0
        while si < s.count {
            if pi < p.count {
                switch p[pi] {
                case UInt8(ascii: "*"):
                    starP = pi; starS = si; pi += 1
                    continue
                case UInt8(ascii: "?"):
                    pi += 1; si += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, next) = matchClass(p, pi, s[si]) {
                        if matched { pi = next; si += 1; continue }
                    } else if s[si] == UInt8(ascii: "[") {
                        // An unterminated '[' is a literal.
                        pi += 1; si += 1; continue
                    }
                case UInt8(ascii: "\\") where pi + 1 < p.count:
                    if p[pi + 1] == s[si] { pi += 2; si += 1; continue }
                default:
                    if p[pi] == s[si] { pi += 1; si += 1; continue }
                }
            }
            if starP >= 0 {
                pi = starP + 1; starS += 1; si = starS
                continue
            }
            return false
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Matches `c` against the bracket expression starting at `p[start]` (`[`). Returns whether it
    /// matched and the index after `]`, or nil when the expression is unterminated.
    private static func matchClass(_ p: [UInt8], _ start: Int, _ c: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count && (p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^")) { negate = true; i += 1 }
        var matched = false
        var first = true
        while i < p.count {
            if p[i] == UInt8(ascii: "]") && !first { return (matched != negate, i + 1) }
            first = false
            var lo = p[i]
            if lo == UInt8(ascii: "\\") && i + 1 < p.count { i += 1; lo = p[i] }
            if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") && p[i + 2] != UInt8(ascii: "]") {
                var hi = p[i + 2]
                i += 3
                if hi == UInt8(ascii: "\\") && i < p.count { hi = p[i]; i += 1 }
                if lo <= c && c <= hi { matched = true }
            } else {
                if lo == c { matched = true }
                i += 1
            }
        }
        return nil
    }
}
