import FilamentCore
import Testing
@testable import FilamentWire

@Suite struct NodeInfoTests {
    static func node(_ b: UInt8) -> NodeID { NodeID(bytes: [UInt8](repeating: b, count: 32))! }
    let signature = [UInt8](repeating: 0xEE, count: 64)

    /// A request survives encoding; its layout is the documented one (140 bytes, fields at fixed offsets).
    @Test func requestRoundTrip() throws {
        let r = NodeInfoRequest(page: 3, nonce: 0x0102_0304_0506_0708, requester: Self.node(1), target: Self.node(2))
        let d = r.encoded(signature: signature)
        #expect(d.count == 140)
        #expect(Array(d[0..<12]) == [1, 1, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8])
        let (back, sig) = try #require(NodeInfoRequest.decode(d))
        #expect(back == r && sig == signature)
        #expect(r.signedBytes.starts(with: Array("filament node-info request v1".utf8)))
    }

    /// 65 neighbours make three pages of at most 30; each page decodes to its part, and the signed bytes
    /// the decoder returns are the ones the sender signed. Every page fits in 1232 bytes with a 32-byte name.
    @Test func answerPagesRoundTrip() throws {
        let neighbours = (0..<65).map { NodeInfoAnswer.Neighbour(node: Self.node(UInt8($0 + 10)), cost: UInt16($0 * 7)) }
        let name = String(repeating: "é", count: 16)  // 32 bytes
        let pages = NodeInfoAnswer.pages(nonce: 99, node: Self.node(1), isGateway: true, name: name, neighbours: neighbours)
        #expect(pages.map(\.neighbours.count) == [30, 30, 5])
        var all: [NodeInfoAnswer.Neighbour] = []
        for p in pages {
            let d = p.encoded(signature: signature)
            #expect(d.count <= 1232)
            let (back, signed, sig) = try #require(NodeInfoAnswer.decode(d))
            #expect(back == p && signed == p.signedBytes && sig == signature)
            #expect(back.pageCount == 3 && back.isGateway && back.name == name)
            all += back.neighbours
        }
        #expect(all == neighbours)
        let empty = NodeInfoAnswer.pages(nonce: 1, node: Self.node(1), isGateway: false, name: nil, neighbours: [])
        #expect(empty.count == 1)
        #expect(NodeInfoAnswer.decode(empty[0].encoded(signature: signature))?.0.name == nil)
    }

    /// Truncations, extensions and single-byte corruptions of the header never trap; lengths that do
    /// not add up, a page past the count, unknown flags and names with control characters are refused.
    @Test func hostileAnswersAreRefused() {
        let a = NodeInfoAnswer(page: 0, pageCount: 1, nonce: 5, node: Self.node(1), isGateway: false, name: "kitchen",
                               neighbours: [.init(node: Self.node(2), cost: 256)])
        let d = a.encoded(signature: signature)
        for n in 0..<d.count { #expect(NodeInfoAnswer.decode(Array(d.prefix(n))) == nil) }
        #expect(NodeInfoAnswer.decode(d + [0]) == nil)
        var badPage = d; badPage[2] = 1
        #expect(NodeInfoAnswer.decode(badPage) == nil)
        var badFlags = d; badFlags[44] = 2
        #expect(NodeInfoAnswer.decode(badFlags) == nil)
        var control = d; control[46] = 0x1B  // ESC in the name
        #expect(NodeInfoAnswer.decode(control) == nil)
        var badUTF8 = d; badUTF8[46] = 0xFF
        #expect(NodeInfoAnswer.decode(badUTF8) == nil)
        for i in 0..<48 {
            for v: UInt8 in [0, 1, 0x7F, 0xFF] {
                var x = d; x[i] = v
                _ = NodeInfoAnswer.decode(x)
                _ = NodeInfoRequest.decode(x)
            }
        }
        #expect(NodeInfoRequest.decode(d) == nil)
        #expect(!NodeInfo.isValidName("") && !NodeInfo.isValidName("a\u{7}b") && !NodeInfo.isValidName(String(repeating: "x", count: 33)))
        #expect(NodeInfo.isValidName("Küche 2"))
    }
}
