// filament-bench-udp: UDP packets per second per core through FilamentLinux's batched transport
// (recvmmsg/sendmmsg, preallocated buffers) between two network namespaces over a veth pair.
// Numbers are per CPU-second of the receiving (and sending) thread, measured with
// CLOCK_THREAD_CPUTIME_ID, so other load on the machine changes wall rates but not much the cost.
//
// Usage (root): swift build -c release --product filament-bench-udp
//               .build/release/filament-bench-udp [seconds=3] [payload=1200] [batch sizes=1,8,32]
// See docs/decisions/0500-no-swiftnio.md for the numbers and what they decide.
import FilamentCore
import FilamentLinux
import Glibc

// No Foundation here on purpose: a static, stripped build of this tool measures what FilamentLinux
// costs in binary size (see docs/decisions/0500-no-swiftnio.md).

/// Runs a command (found in PATH) with output to /dev/null; returns its exit status.
@discardableResult
func sh(_ args: [String]) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    guard posix_spawnp(&pid, args[0], &actions, nil, &argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xFF
}

/// `value` with `decimals` digits after the point, right-aligned in `width` characters.
func fmt(_ value: Double, _ width: Int, decimals: Int = 0) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let r = (value * scale).rounded() / scale
    var text: String
    if decimals == 0 {
        text = String(Int(r))
    } else {
        let whole = Int(r)
        var frac = String(Int(((r - Double(whole)) * scale).rounded()))
        while frac.count < decimals { frac = "0" + frac }
        text = "\(whole).\(frac)"
    }
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

func threadCPU() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

final class Result: @unchecked Sendable {
    var packets = 0
    var cpu = 0.0
}

/// Runs `body` on a new thread; returns a join function.
func spawnThread(_ body: @escaping () -> Void) -> () -> Void {
    final class Box { let f: () -> Void; init(_ f: @escaping () -> Void) { self.f = f } }
    var t = pthread_t()
    pthread_create(&t, nil, { arg in
        Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().f()
        return nil
    }, Unmanaged.passRetained(Box(body)).toOpaque())
    return { pthread_join(t, nil) }
}

/// When run with LD_PRELOAD of the malloc counter described in docs/decisions/0500-no-swiftnio.md,
/// the number of malloc/calloc/realloc/memalign calls so far in the process; nil otherwise.
let mallocCalls: (() -> UInt)? = {
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "filament_malloc_calls") else { return nil }
    let f = unsafeBitCast(sym, to: (@convention(c) () -> UInt).self)
    return { f() }
}()

let args = CommandLine.arguments
let seconds = args.count > 1 ? Double(args[1]) ?? 3 : 3
let payload = args.count > 2 ? Int(args[2]) ?? 1200 : 1200
let batches = args.count > 3 ? args[3].split(separator: ",").compactMap { Int($0) } : [1, 8, 32]
guard getuid() == 0 else {
    print("filament-bench-udp needs root (it creates two network namespaces)")
    exit(2)
}

let a = "filb-\(getpid())-a", b = "filb-\(getpid())-b"
func cleanup() { sh(["ip", "netns", "del", a]); sh(["ip", "netns", "del", b]) }
cleanup()
defer { cleanup() }
for ns in [a, b] {
    sh(["ip", "netns", "add", ns])
    sh(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"])
}
sh(["ip", "link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b])
for (ns, side) in [(a, "a"), (b, "b")] {
    sh(["ip", "-n", ns, "link", "set", "v\(side)", "addrgenmode", "none"])
    sh(["ip", "-n", ns, "addr", "add", "fe80::\(side)/64", "dev", "v\(side)", "nodad"])
    sh(["ip", "-n", ns, "link", "set", "v\(side)", "up"])
}
// Wait for carrier and resolve the neighbour before measuring (bounded: 20 tries of 1 s).
for _ in 0..<20 where sh(["ip", "netns", "exec", a, "ping", "-6", "-c", "1", "-W", "1", "fe80::b%va"]) != 0 {}
let destination = IPv6Address("fe80::b")!

print("payload \(payload) B, \(seconds) s per run, veth between two namespaces")
print("batch | received pps (wall) | receiver pkts/CPU-s | sender pkts/CPU-s | loss" + (mallocCalls == nil ? "" : " | allocations per packet (both threads)"))
for batch in batches {
    var config = UDPTransport.Configuration()
    config.batchSize = batch
    config.receiveBufferBytes = 4 << 20
    let sender: UDPTransport
    let receiver: UDPTransport
    do {
        sender = try NetworkNamespace.run(a) { try UDPTransport(interfaceName: "va", configuration: config) }
        receiver = try NetworkNamespace.run(b) { try UDPTransport(interfaceName: "vb", configuration: config) }
    } catch {
        print("setup failed: \(error)")
        exit(1)
    }
    let rx = Result(), tx = Result()
    final class Flag: @unchecked Sendable { var stop = false }
    let flag = Flag()
    let end = MonotonicClock.now() + .milliseconds(Int64(seconds * 1000))
    let allocationsBefore = mallocCalls?() ?? 0
    let joinReceiver = spawnThread {
        let loop = try! EventLoop(signals: [])
        try! loop.watch(receiver.fileDescriptor, token: 1)
        let c0 = threadCPU()
        var bytes = 0
        while !flag.stop || MonotonicClock.now() < end + .milliseconds(200) {
            if MonotonicClock.now() > end + .milliseconds(200) { break }
            try! loop.wait(until: .distantFuture, maxWait: .milliseconds(50)) { _ in
                while try! receiver.receive({ bytes &+= $0.payload.count }) == batch {}
            }
        }
        rx.cpu = threadCPU() - c0
        rx.packets = receiver.statistics.received
    }
    let joinSender = spawnThread {
        let c0 = threadCPU()
        var sentCount = 0
        while MonotonicClock.now() < end {
            while sender.pendingCount < batch {
                sender.enqueue(to: destination) { buf in
                    buf.storeBytes(of: UInt64(sentCount).bigEndian, as: UInt64.self)
                    return payload
                }
            }
            let n = try! sender.flush()
            sentCount += n
            if n == 0 { sched_yield() }
        }
        tx.cpu = threadCPU() - c0
        tx.packets = sender.statistics.sent
        flag.stop = true
    }
    joinSender()
    joinReceiver()
    let allocations = (mallocCalls?() ?? 0) - allocationsBefore
    let wall = rx.packets > 0 ? Double(rx.packets) / seconds : 0
    let loss = tx.packets > 0 ? 1 - Double(rx.packets) / Double(tx.packets) : 0
    print(fmt(Double(batch), 5) + " | " + fmt(wall, 19) + " | " + fmt(Double(rx.packets) / max(rx.cpu, 1e-9), 19) + " | "
          + fmt(Double(tx.packets) / max(tx.cpu, 1e-9), 17) + " | " + fmt(loss * 100, 4, decimals: 1) + "%"
          + (mallocCalls == nil ? "" : " | " + fmt(Double(allocations) / Double(max(1, rx.packets + tx.packets)), 0, decimals: 5)
             + " (\(allocations) calls)"))
}
