import FilamentCore
@testable import FilamentCrypto

/// A test address: a small number.
struct TestAddress: LinkPeerAddress, Comparable, CustomStringConvertible {
    var id: UInt32
    var cookieBytes: [UInt8] { withUnsafeBytes(of: id.littleEndian) { Array($0) } }
    static func < (a: TestAddress, b: TestAddress) -> Bool { a.id < b.id }
    var description: String { "@\(id)" }
}

func testKeyPair(_ seed: UInt8) -> NodeKeyPair {
    try! NodeKeyPair(seed: SecretBytes(copying: [UInt8](repeating: seed, count: 32)))
}

/// Link layers joined by an in-memory FIFO pipe, with a hand-set clock.
final class LinkHarness {
    struct Frame { var from: TestAddress; var to: TestAddress; var bytes: [UInt8] }
    var layers: [TestAddress: LinkLayer<TestAddress>] = [:]
    var ids: [TestAddress: NodeID] = [:]
    var pipe: [Frame] = []
    var delivered: [TestAddress: [[UInt8]]] = [:]
    var events: [TestAddress: [LinkOutput<TestAddress>]] = [:]
    /// Largest send produced while handling each received frame: (received size, reply size, received type).
    var replies: [(Int, Int, UInt8)] = []
    var now = Instant(nanoseconds: 1_000_000_000)
    /// Frames for which `filter` returns false are lost.
    var filter: (Frame) -> Bool = { _ in true }

    @discardableResult
    func add(_ address: UInt32, seed: UInt8, networkKey: [UInt8] = [UInt8](repeating: 0x42, count: 32),
             floor: UInt64 = 0, rngSeed: UInt64 = 7, configuration: LinkConfiguration = LinkConfiguration()) -> NodeID {
        let a = TestAddress(id: address)
        let keys = testKeyPair(seed)
        let layer = try! LinkLayer<TestAddress>(identity: keys, networkKey: SecretBytes(copying: networkKey),
                                                initiationCounterFloor: floor, random: SeededRandom(seed: rngSeed),
                                                configuration: configuration)
        layers[a] = layer
        ids[a] = layer.nodeID
        return layer.nodeID
    }

    func layer(_ id: UInt32) -> LinkLayer<TestAddress> { layers[TestAddress(id: id)]! }

    func execute(_ outputs: [LinkOutput<TestAddress>], at node: TestAddress) {
        for o in outputs {
            switch o {
            case .send(let bytes, let to):
                let f = Frame(from: node, to: to, bytes: bytes)
                if filter(f) { pipe.append(f) }
            case .deliver(let p, _, _): delivered[node, default: []].append(p)
            default: events[node, default: []].append(o)
            }
        }
    }

    func connect(_ a: UInt32, _ b: UInt32) {
        let A = TestAddress(id: a), B = TestAddress(id: b)
        execute(layers[A]!.connect(to: ids[B]!, at: B, now: now), at: A)
    }

    func send(_ a: UInt32, _ b: UInt32, _ payload: [UInt8]) {
        let A = TestAddress(id: a), B = TestAddress(id: b)
        execute(layers[A]!.send(payload, to: ids[B]!, now: now), at: A)
    }

    /// Delivers queued frames in FIFO order (bounded).
    func run(maxFrames: Int = 10_000) {
        var n = 0
        while !pipe.isEmpty, n < maxFrames {
            n += 1
            deliver(0)
        }
    }

    /// Delivers the frame at `index` of the pipe now (tests reorder frames with it: one overtakes another).
    func deliver(_ index: Int) {
        let f = pipe.remove(at: index)
        guard let layer = layers[f.to] else { return }
        let out = layer.receive(f.bytes, from: f.from, now: now)
        let biggest = out.compactMap { o -> Int? in if case .send(let b, _) = o { return b.count }; return nil }.max() ?? 0
        replies.append((f.bytes.count, biggest, f.bytes.first ?? 0))
        execute(out, at: f.to)
    }

    func advance(_ d: Interval) {
        now = now + d
        for a in layers.keys.sorted() { execute(layers[a]!.tick(now: now), at: a) }
    }
}
