import CFilamentBenchAlloc
import FilamentCore
import FilamentEngine
import FilamentWire
#if canImport(Glibc)
import Glibc
#endif

// Identities, fake signatures and measurement helpers for the engine benchmark.

enum Identity {
    static func node(_ i: Int) -> NodeID { NodeID(w0: UInt64(i), w1: UInt64(i), w2: UInt64(i), w3: UInt64(i) &+ 1) }
    static func address(of n: NodeID) -> IPv6Address { IPv6Address(high: MeshPrefix.prefix.address.high, low: n.w3) }
    static func address(_ i: Int) -> IPv6Address { address(of: node(i)) }
    static func routerID(_ i: Int) -> RouterID { RouterID(meshAddress: address(i)) }
}

struct Resolver: NodeAddressResolver { func meshAddress(of node: NodeID) -> IPv6Address { Identity.address(of: node) } }
/// Signatures are not what is measured here: a constant signer and an accepting verifier.
struct NullSigner: MessageSigner { func sign(_ m: [UInt8]) -> [UInt8] { [UInt8](repeating: 7, count: 64) } }
struct AcceptingVerifier: SignatureVerifier { func verify(signature: [UInt8], of message: [UInt8], by key: NodeID) -> Bool { true } }

func makeEngine(_ i: Int, configuration: EngineConfiguration = EngineConfiguration(), seed: UInt64 = 1) -> RoutingEngine {
    RoutingEngine(node: Identity.node(i), meshAddress: Identity.address(i), configuration: configuration, seqnoCounter: 0,
                  random: SeededRandom(seed: seed &+ UInt64(i)), signer: NullSigner(), verifier: AcceptingVerifier(),
                  addresses: Resolver(), now: .zero)
}

func allocations() -> UInt64 { UInt64(filament_bench_allocations()) }

/// Resident set size in bytes, from /proc/self/statm (second field, in pages).
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 256)
    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 255) }
    guard n > 0 else { return 0 }
    let fields = String(decoding: buf[0..<n], as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Bytes currently allocated on the heap (glibc's mallinfo2: in-use bytes of the main arena + mmapped).
func heapInUse() -> Int {
    Int(filament_bench_heap_in_use())
}

func wallSeconds(_ body: () -> Void) -> Double {
    let c = ContinuousClock()
    let start = c.now
    body()
    let d = c.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func fmt(_ x: Double, _ digits: Int = 1) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let v = (x * p).rounded() / p
    return String(v)
}

/// A no-op a debugger can break on (the allocation profile of one packet starts here).
@_optimize(none) @inline(never) @_silgen_name("filament_bench_marker") func benchMarker(_ x: Int) { if x == -1 { print("") } }
