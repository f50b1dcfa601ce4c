import FilamentCore
import Foundation
import Testing
@testable import FilamentControl

/// The Foundation-free JSON of the control protocol writes the bytes Foundation's JSONEncoder wrote
/// before (sorted keys, unescaped slashes; pretty style for `--json`) and reads what it reads.
@Suite struct JSONCodingTests {
    struct Sample: Codable, Equatable {
        var id: Int
        var count: UInt32
        var delta: Int64
        var ratio: Double
        var maybe: Double?
        var name: String
        var label: String?
        var flag: Bool
        var tags: [String]
        var table: [String: Int]
        var nested: [Inner]
        var nothing: String?

        // A present-but-null key, as the control messages write absent values.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id); try c.encode(count, forKey: .count); try c.encode(delta, forKey: .delta)
            try c.encode(ratio, forKey: .ratio); try c.encodeIfPresent(maybe, forKey: .maybe); try c.encode(name, forKey: .name)
            try c.encodeIfPresent(label, forKey: .label); try c.encode(flag, forKey: .flag); try c.encode(tags, forKey: .tags)
            try c.encode(table, forKey: .table); try c.encode(nested, forKey: .nested); try c.encode(nothing, forKey: .nothing)
        }
    }

    struct Inner: Codable, Equatable {
        var a: [[Int]]
        var b: String?
    }

    static let characters: [Character] = Array("az AZ09/\\\"'\n\t\r\u{0}\u{1f}\u{7f}é∂😀{}[],:")

    static func text(_ r: inout SeededRandom) -> String {
        String((0..<Int.random(in: 0...10, using: &r)).map { _ in characters.randomElement(using: &r)! })
    }

    static func sample(_ r: inout SeededRandom) -> Sample {
        let doubles: [Double] = [0, -0.0, 1, 2.5, -1e-7, 1e21, 123456789.125, .ulpOfOne, Double(Int.random(in: -1000...1000, using: &r)) / 8]
        return Sample(
            id: Int.random(in: Int.min...Int.max, using: &r), count: UInt32.random(in: 0...UInt32.max, using: &r),
            delta: Int64.random(in: -5...5, using: &r), ratio: doubles.randomElement(using: &r)!,
            maybe: Bool.random(using: &r) ? doubles.randomElement(using: &r)! : nil, name: text(&r),
            label: Bool.random(using: &r) ? text(&r) : nil, flag: Bool.random(using: &r),
            tags: (0..<Int.random(in: 0...3, using: &r)).map { _ in text(&r) },
            table: Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0...4, using: &r)).map { i in ("\(text(&r))#\(i)", i) }),
            nested: (0..<Int.random(in: 0...2, using: &r)).map { _ in
                Inner(a: (0..<Int.random(in: 0...2, using: &r)).map { _ in (0..<Int.random(in: 0...3, using: &r)).map { $0 } },
                      b: Bool.random(using: &r) ? text(&r) : nil)
            },
            nothing: nil)
    }

    func foundation(_ value: some Encodable, pretty: Bool) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return Array(try e.encode(value))
    }

    /// 400 random values: the same bytes as Foundation, compact and pretty, and both decoders agree.
    @Test func sameBytesAsFoundation() throws {
        for seed in 0..<400 as Range<UInt64> {
            var r = SeededRandom(seed: seed)
            let s = Self.sample(&r)
            let mine = try JSONCoding.encode(s)
            #expect(mine == (try foundation(s, pretty: false)), "seed \(seed): \(String(decoding: mine, as: UTF8.self))")
            #expect(try JSONCoding.encode(s, pretty: true) == (try foundation(s, pretty: true)), "seed \(seed)")
            #expect(try JSONCoding.decode(Sample.self, from: mine) == s)
            #expect(try JSONDecoder().decode(Sample.self, from: Data(mine)) == s)
        }
    }

    /// The protocol's own envelope types.
    @Test func controlEnvelopes() throws {
        let request = ControlRequest(id: 7, command: "status", args: ["path": "/a/b"])
        #expect(try JSONCoding.encode(request) == (try foundation(request, pretty: false)))
        let line = try ControlJSON.encodeLine(request)
        #expect(line.last == 10)
        #expect(try JSONCoding.decode(ControlRequest.self, from: line.dropLast()) == request)
        let failure = ControlResponse<String>(id: 3, error: ControlError(code: "bad_request", message: "no"))
        #expect(try JSONCoding.encode(failure) == (try foundation(failure, pretty: false)))
        let header = try JSONCoding.decode(ControlResponseHeader.self, from: try JSONCoding.encode(failure))
        #expect(header.id == 3 && !header.ok && header.error?.code == "bad_request")
    }

    /// Non-finite numbers cannot be written; wrong types and missing keys are decoding errors, not traps.
    @Test func encodingAndDecodingErrors() throws {
        #expect(throws: EncodingError.self) { try JSONCoding.encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try JSONCoding.encode(["x": Double.infinity]) }
        #expect(throws: DecodingError.self) { try JSONCoding.decode(ControlRequest.self, from: Array(#"{"version":1,"id":"7","command":"x","args":{}}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONCoding.decode(ControlRequest.self, from: Array(#"{"version":1,"command":"x","args":{}}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONCoding.decode(UInt8.self, from: Array("300".utf8)) }
        #expect(try JSONCoding.decode(Int.self, from: Array("1e3".utf8)) == 1000)
        #expect(try JSONCoding.decode([Int?].self, from: Array("[1,null,3]".utf8)) == [1, nil, 3])
    }

    /// The reader accepts what RFC 8259 allows and refuses the rest with an offset.
    @Test func readerSyntax() throws {
        #expect(try JSONValue.parse(Array(#" {"a" : [1, -2.5e+3, true, false, null, "\u00e9\ud83d\ude00\/\n"]} "#.utf8))
            == .object(["a": .array([.number("1"), .number("-2.5e+3"), .bool(true), .bool(false), .null, .string("é😀/\n")])]))
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "1e", "\"\\x\"", "\"\\ud800\"", "\"a\nb\"", "tru", "nul", "[1] 2",
                    "{\"a\":1,}", "'a'", "\"\u{0}\"", "[\"\\u12\"]"] {
            #expect(throws: JSONSyntaxError.self, "\(bad.debugDescription)") { try JSONValue.parse(Array(bad.utf8)) }
        }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse([UInt8(ascii: "\""), 0xff, UInt8(ascii: "\"")]) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do { _ = try JSONValue.parse(Array(deep.utf8)); Issue.record("expected a depth error") } catch {
            #expect(error.message.contains("nested more than 64"))
            #expect(error.offset == 64)
        }
    }

    /// Random bytes and damaged lines never trap the reader.
    @Test func damagedLinesNeverTrap() throws {
        for seed in 0..<2000 as Range<UInt64> {
            var r = SeededRandom(seed: seed)
            var bytes = try JSONCoding.encode(Self.sample(&r))
            for _ in 0..<Int.random(in: 1...3, using: &r) where !bytes.isEmpty {
                let i = Int.random(in: 0..<bytes.count, using: &r)
                if Bool.random(using: &r) { bytes[i] = UInt8.random(in: 0...255, using: &r) } else { bytes.removeSubrange(i...) }
            }
            _ = try? JSONValue.parse(bytes)
            _ = try? JSONCoding.decode(Sample.self, from: bytes)
        }
    }
}
