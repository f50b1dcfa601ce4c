// filament-bench-crypto: link-layer numbers for docs/benchmarks.md. Build and run in release:
//   swift build -c release --product filament-bench-crypto && .build/release/filament-bench-crypto
import CFilamentBench
import FilamentCore
import FilamentCrypto

struct BenchAddress: LinkPeerAddress {
    var id: UInt32
    var cookieBytes: [UInt8] { withUnsafeBytes(of: id) { Array($0) } }
}

/// Everything runs inside one function so the nested helpers capture locals, not main-actor globals.
func runBenchmark() {
    let clock = ContinuousClock()
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
    func rate(_ n: Int, _ body: () -> Void) -> Double {
        let t = clock.measure(body)
        return Double(n) / seconds(t)
    }
    func fmt(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r >= 1000 ? String(Int(r)) : String(r)
    }

    let arguments = CommandLine.arguments
    let packetLength = 1400
    let packets = arguments.count > 1 ? Int(arguments[1]) ?? 200_000 : 200_000
    let rounds = 5

    // MARK: handshakes

    func noiseHandshake(_ responderStatic: X25519KeyPair, _ initiatorStatic: X25519KeyPair, _ psk: borrowing SecretBytes) {
        let i = try! HandshakeState(pattern: .ikpsk2, initiator: true, staticKey: initiatorStatic,
                                    remoteStatic: responderStatic.publicKey, psk: psk)
        let r = try! HandshakeState(pattern: .ikpsk2, initiator: false, staticKey: responderStatic, psk: psk)
        _ = try! r.readMessage(try! i.writeMessage(Array(repeating: 0, count: 40)))
        _ = try! i.readMessage(try! r.writeMessage())
        _ = try! i.split(); _ = try! r.split()
    }

    let psk = SecretBytes(randomCount: 32)
    let rs = X25519KeyPair.generate(), ist = X25519KeyPair.generate()
    let handshakes = 2000
    var bestNoise = 0.0
    for _ in 0..<rounds { bestNoise = max(bestNoise, rate(handshakes) { for _ in 0..<handshakes { noiseHandshake(rs, ist, psk) } }) }

    // Full link-layer handshakes: initiation frame, response frame, keepalive, both sides.
    var config = LinkConfiguration()
    config.handshakeBurst = 1 << 30
    let a = try! LinkLayer<BenchAddress>(identity: try! NodeKeyPair(seed: SecretBytes(randomCount: 32)), networkKey: psk,
                                          initiationCounterFloor: 0, random: SeededRandom(seed: 1), configuration: config)
    let b = try! LinkLayer<BenchAddress>(identity: try! NodeKeyPair(seed: SecretBytes(randomCount: 32)), networkKey: psk,
                                          initiationCounterFloor: 0, random: SeededRandom(seed: 2), configuration: config)
    let addrA = BenchAddress(id: 1), addrB = BenchAddress(id: 2)
    var now = Instant(nanoseconds: 1)
    func linkHandshake() {
        now = now + .milliseconds(1)
        _ = a.disconnect(b.nodeID)
        var toB = a.connect(to: b.nodeID, at: addrB, now: now)
        var guardSteps = 0
        while !toB.isEmpty, guardSteps < 8 {
            guardSteps += 1
            var toA: [LinkOutput<BenchAddress>] = []
            for case .send(let f, _) in toB { toA += b.receive(f, from: addrA, now: now) }
            toB = []
            for case .send(let f, _) in toA { toB += a.receive(f, from: addrB, now: now) }
        }
    }
    var bestLink = 0.0
    for _ in 0..<rounds { bestLink = max(bestLink, rate(handshakes) { for _ in 0..<handshakes { linkHandshake() } }) }
    precondition(a.hasSession(with: b.nodeID, now: now) && b.hasSession(with: a.nodeID, now: now), "link handshake failed")

    // MARK: transport seal + open of 1400-byte packets

    func sessionPair(_ cipher: TransportCipher = .chacha20Poly1305) -> (TransportSession, TransportSession) {
        let i = try! HandshakeState(pattern: .ikpsk2, initiator: true, staticKey: ist, remoteStatic: rs.publicKey, psk: psk)
        let r = try! HandshakeState(pattern: .ikpsk2, initiator: false, staticKey: rs, psk: psk)
        _ = try! r.readMessage(try! i.writeMessage())
        _ = try! i.readMessage(try! r.writeMessage())
        let ik = try! i.split(), rk = try! r.split()
        return (TransportSession(sender: ik.initiatorToResponder, receiver: ik.responderToInitiator, cipher: cipher, localIndex: 1, remoteIndex: 2,
                                 createdAt: .zero, isInitiator: true),
                TransportSession(sender: rk.responderToInitiator, receiver: rk.initiatorToResponder, cipher: cipher, localIndex: 2, remoteIndex: 1,
                                 createdAt: .zero, isInitiator: false))
    }

    let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: packetLength, alignment: 16)
    plain.initializeMemory(as: UInt8.self, repeating: 0xA5)
    let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: packetLength + 64, alignment: 16)
    let opened = UnsafeMutableRawBufferPointer.allocate(byteCount: packetLength + 64, alignment: 16)

    func swiftSealOpen(_ s: TransportSession, _ r: TransportSession, _ n: Int) -> Int {
        var failures = 0
        for _ in 0..<n {
            guard case .sealed(let len) = s.seal(UnsafeRawBufferPointer(plain), into: frame),
                  case .opened = r.open(UnsafeRawBufferPointer(rebasing: frame[..<len]), into: opened) else { failures += 1; continue }
        }
        return failures
    }

    var outputs: [LinkOutput<BenchAddress>] = []
    outputs.reserveCapacity(16)
    func linkSealOpen(_ n: Int) -> Int {
        var failures = 0
        for _ in 0..<n {
            outputs.removeAll(keepingCapacity: true)
            guard let sent = a.seal(UnsafeRawBufferPointer(plain), to: b.nodeID, now: now, frame: frame, outputs: &outputs),
                  b.receive(UnsafeRawBufferPointer(rebasing: frame[..<sent.count]), from: addrA, now: now,
                            plaintext: opened, outputs: &outputs) != nil else { failures += 1; continue }
        }
        return failures
    }

    var bestSwift = 0.0, bestC = 0.0, bestLinkPath = 0.0, bestAES = 0.0
    let aes = TransportCipher.aes256GCMAvailable
    for _ in 0..<rounds {
        if aes {
            let (s, r) = sessionPair(.aes256GCM)
            var f = 0
            bestAES = max(bestAES, rate(packets) { f = swiftSealOpen(s, r, packets) })
            precondition(f == 0, "AES-256-GCM seal/open failed")
        }
        let (s, r) = sessionPair()
        var f = 0
        bestSwift = max(bestSwift, rate(packets) { f = swiftSealOpen(s, r, packets) })
        precondition(f == 0, "swift seal/open failed")
        var cf: UInt64 = 0
        bestC = max(bestC, rate(packets) { cf = filament_bench_c_seal_open(UInt64(packets), packetLength) })
        precondition(cf == 0, "C seal/open failed")
        bestLinkPath = max(bestLinkPath, rate(packets) { f = linkSealOpen(packets) })
        precondition(f == 0, "link seal/open failed")
    }

    // MARK: allocations per packet (malloc calls counted by an interposed malloc)

    func mallocs(_ body: () -> Void) -> UInt64 {
        let before = filament_bench_malloc_calls()
        body()
        return filament_bench_malloc_calls() - before
    }
    let probe = mallocs { _ = [UInt8](repeating: 1, count: Int(filament_bench_malloc_calls() % 7) + 100) }
    let (s1, r1) = sessionPair()
    _ = swiftSealOpen(s1, r1, 1000)  // warm up
    let n1 = 10_000
    let m1 = mallocs { _ = swiftSealOpen(s1, r1, n1) }, m2 = mallocs { _ = swiftSealOpen(s1, r1, 2 * n1) }
    _ = linkSealOpen(1000)
    let l1 = mallocs { _ = linkSealOpen(n1) }, l2 = mallocs { _ = linkSealOpen(2 * n1) }

    print("filament-bench-crypto (release), \(packetLength)-byte packets, best of \(rounds) rounds")
    print("handshakes/s, Noise IKpsk2 initiator+responder (HandshakeState): \(fmt(bestNoise))")
    print("handshakes/s, LinkLayer initiation+response+keepalive, both sides: \(fmt(bestLink))")
    print("seal+open/s, TransportSession (Swift):                   \(fmt(bestSwift))")
    print("seal+open/s, TransportSession AES-256-GCM (decision 0804): \(aes ? fmt(bestAES) : "no AES-NI here")")
    print("seal+open/s, LinkLayer fast path (seal(to:) + receive):   \(fmt(bestLinkPath))")
    print("seal+open/s, plain C libsodium loop:                      \(fmt(bestC))")
    print("Swift/C ratio: TransportSession \(fmt(100 * bestSwift / bestC))%, LinkLayer \(fmt(100 * bestLinkPath / bestC))%")
    print("malloc counter self-check (one Swift array): \(probe) call(s)")
    print("mallocs for \(n1) / \(2 * n1) packets, TransportSession: \(m1) / \(m2) -> per packet \(Double(m2 - m1) / Double(n1))")
    print("mallocs for \(n1) / \(2 * n1) packets, LinkLayer fast path: \(l1) / \(l2) -> per packet \(Double(l2 - l1) / Double(n1))")
}

runBenchmark()
