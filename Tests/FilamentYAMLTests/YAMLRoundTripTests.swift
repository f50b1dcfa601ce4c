import FilamentCore
import PropertyBased
import Testing
@testable import FilamentYAML

/// Random nested documents: what libyaml's emitter writes, the parser reads back as the same tree.
@Suite struct YAMLRoundTripTests {
    static let seeds = Gen.uint64()

    /// Characters for quoted scalars: YAML's indicators, quotes, escapes, line breaks and non-ASCII.
    static let quotedPool: [Character] = Array("abc XYZ019:#-?[]{},&*!|>'\"%@`\\\n\t/é∂😀")
    static let plainPool: [Character] = Array("abcdefghijklmnopqrstuvwxyz0123456789_")

    static func scalar(_ r: inout SeededRandom) -> YAMLNode {
        if Bool.random(using: &r) {
            // A plain word: starts with a letter, so no indicator can begin it.
            var s = String(plainPool[Int.random(in: 0..<26, using: &r)])
            for _ in 0..<Int.random(in: 0...8, using: &r) { s.append(plainPool.randomElement(using: &r)!) }
            return YAMLNode(.scalar(s, plain: true))
        }
        var s = ""
        for _ in 0..<Int.random(in: 0...12, using: &r) { s.append(quotedPool.randomElement(using: &r)!) }
        return YAMLNode(.scalar(s, plain: false))
    }

    static func tree(_ r: inout SeededRandom, depth: Int) -> YAMLNode {
        let pick = depth >= 5 ? 0 : Int.random(in: 0..<3, using: &r)
        switch pick {
        case 1:
            return YAMLNode(.sequence((0..<Int.random(in: 0...4, using: &r)).map { _ in tree(&r, depth: depth + 1) }))
        case 2:
            var pairs: [YAMLPair] = []
            var used: [String] = []
            for _ in 0..<Int.random(in: 0...4, using: &r) {
                let key = scalar(&r)
                guard let k = key.string, !used.contains(k) else { continue }  // keys are unique by rule
                used.append(k)
                pairs.append(YAMLPair(key: key, value: tree(&r, depth: depth + 1)))
            }
            return YAMLNode(.mapping(pairs))
        default:
            return scalar(&r)
        }
    }

    @Test func randomTreesRoundTrip() async {
        await propertyCheck(count: 500, input: Self.seeds) { seed in
            var r = SeededRandom(seed: seed)
            let t = Self.tree(&r, depth: 0)
            for style in [YAMLWriter.Style.block, .flow] {
                let text = try YAMLWriter.text(t, style: style)
                let back = try YAMLParser.parse(text)
                #expect(back?.withoutPositions == t, "\(style) text:\n\(text)")
            }
        }
    }

    /// Damaged documents (bytes flipped, cut, inserted) parse or give an error with a line; never trap or hang.
    @Test func damagedDocumentsNeverTrap() async {
        await propertyCheck(count: 500, input: Self.seeds) { seed in
            var r = SeededRandom(seed: seed)
            var bytes = Array(try YAMLWriter.text(Self.tree(&r, depth: 0)).utf8)
            for _ in 0..<Int.random(in: 1...4, using: &r) where !bytes.isEmpty {
                let i = Int.random(in: 0..<bytes.count, using: &r)
                switch Int.random(in: 0..<3, using: &r) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &r)
                case 1: bytes.removeSubrange(i...)
                default: bytes.insert(Array("[{&*:-'\"\t\n".utf8).randomElement(using: &r)!, at: i)
                }
            }
            do throws(YAMLError) { _ = try YAMLParser.parse(bytes: bytes) } catch {
                #expect(!error.message.isEmpty)
            }
        }
    }
}
