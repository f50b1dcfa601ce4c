import FilamentCore
import FilamentWire

// Wire codec throughput. Built only when FILAMENT_BENCH is set (see Package.swift):
//
//   FILAMENT_BENCH=1 swift build -c release --build-path .build-bench --product filament-bench-wire
//   .build-bench/release/filament-bench-wire
//
// Prints, per packet shape, encode and decode rates (packets/s and MB/s of routing packet bytes).
// Encoding appends into one reused buffer (removeAll(keepingCapacity:)), as a driver would.

func meshPrefix(_ i: Int) -> Prefix {
    Prefix(host: IPv6Address(high: 0xFD66_696C_616D_0000 | UInt64(i & 0xFFFF), low: 0x1000_0000_0000_0000 | UInt64(i)))
}

let shapes: [(String, RoutingPacket)] = [
    ("hello", RoutingPacket(messages: [.hello(Hello(routerID: RouterID(1), seqno: Seqno(1), intervalCentiseconds: 400))])),
    ("hello+4 IHU", RoutingPacket(messages: [.hello(Hello(routerID: RouterID(1), seqno: Seqno(1), intervalCentiseconds: 400))]
        + (0..<4).map { .ihu(IHU(neighbour: RouterID(UInt64($0)), rxcost: 256, intervalCentiseconds: 1200)) })),
    ("64 mesh /128 updates", RoutingPacket(messages: (0..<64).map { i in
        let p = meshPrefix(i)
        return .update(Update(prefix: p, routerID: RouterID(p.address.low), seqno: Seqno(UInt16(i)),
                              metric: Metric(256), intervalCentiseconds: 1600))
    })),
    ("gateway advert", RoutingPacket(messages: [.gatewayAdvert(GatewayAdvert(
        gateway: NodeID(w0: 1, w1: 2, w2: 3, w3: 4), seqno: 1, flags: [.ipv4, .ipv6, .healthy],
        bandwidthDownKbps: 100_000, bandwidthUpKbps: 20_000, load: 10, lifetimeSeconds: 300, name: "kitchen",
        signature: [UInt8](repeating: 7, count: 64)))])),
]

let clock = ContinuousClock()
func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

print("shape                    bytes   encode pkt/s   encode MB/s   decode pkt/s   decode MB/s")
for (name, packet) in shapes {
    let bytes = try packet.encode()
    let iterations = max(20_000, 20_000_000 / bytes.count)
    var buffer: [UInt8] = []
    buffer.reserveCapacity(2048)
    var sink = 0
    let encodeTime = try clock.measure {
        for _ in 0..<iterations {
            buffer.removeAll(keepingCapacity: true)
            try packet.encode(into: &buffer)
            sink &+= buffer.count
        }
    }
    let decodeTime = try clock.measure {
        try bytes.withUnsafeBytes { raw in
            for _ in 0..<iterations {
                let p = try RoutingPacket.decode(raw)
                sink &+= p.messages.count
            }
        }
    }
    precondition(sink != 0)
    let e = seconds(encodeTime), d = seconds(decodeTime)
    let n = Double(iterations), mb = Double(bytes.count * iterations) / 1e6
    func col(_ v: Double, _ w: Int) -> String {
        let s = String(Int(v + 0.5))
        return String(repeating: " ", count: max(0, w - s.count)) + s
    }
    print(name.padding(24) + col(Double(bytes.count), 6) + col(n / e, 15) + col(mb / e, 14) + col(n / d, 15) + col(mb / d, 14))
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
