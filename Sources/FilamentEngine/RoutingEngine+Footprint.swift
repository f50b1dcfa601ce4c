import FilamentCore
import FilamentWire

/// Estimated heap bytes of one engine table (from capacities and strides; malloc's own per-chunk overhead
/// and freed-but-mapped memory are not counted). For memory benchmarks: where the bytes per destination go.
public struct TableFootprint: Sendable {
    public var name: String
    public var bytes: Int
}

extension RoutingEngine {
    /// Heap bytes of a native dictionary with this capacity (buckets are a power of two at most 3/4 full).
    static func dictionaryBytes<K, V>(_ d: [K: V]) -> Int {
        guard d.capacity > 0 else { return 0 }
        var buckets = 1
        while buckets * 3 / 4 < d.capacity { buckets <<= 1 }
        return 64 + buckets / 8 + buckets * (MemoryLayout<K>.stride + MemoryLayout<V>.stride)
    }

    static func arrayBytes<T>(_ a: [T]) -> Int { a.capacity == 0 ? 0 : 32 + a.capacity * MemoryLayout<T>.stride }

    /// The engine's large tables, by name, in a fixed order.
    public func tableFootprint() -> [TableFootprint] {
        var pendingUpdate = 0, pending = 0
        for q in queues { pendingUpdate += Self.arrayBytes(q.index); pending += Self.arrayBytes(q.pending) }
        var echoBytes = Self.dictionaryBytes(echoes)
        for e in echoes.values { echoBytes += Self.dictionaryBytes(e) }
        return [
            TableFootprint(name: "routes (prefix index)", bytes: routes.footprint.index),
            TableFootprint(name: "routes (per-prefix entries and prefixes by id)", bytes: routes.footprint.entries),
            TableFootprint(name: "routes (pools of 8-byte mesh and 16-byte other routes)", bytes: routes.footprint.routes),
            TableFootprint(name: "sources (other router ids; the announced one's is in routes)", bytes: Self.dictionaryBytes(sources)),
            TableFootprint(name: "advertised (own prefixes; learned ones are in routes)", bytes: Self.dictionaryBytes(ownAdvertised)),
            TableFootprint(name: "queues (coalescing index)", bytes: pendingUpdate + Self.arrayBytes(queues)),
            TableFootprint(name: "queues (pending messages)", bytes: pending),
            TableFootprint(name: "echoes", bytes: echoBytes),
            TableFootprint(name: "pending requests", bytes: Self.dictionaryBytes(pendingRequests)),
            TableFootprint(name: "neighbours and held digests", bytes: Self.dictionaryBytes(neighbours) + Self.arrayBytes(held) + Self.arrayBytes(slotCost)),
            TableFootprint(name: "gateways and flows", bytes: Self.dictionaryBytes(gateways) + Self.dictionaryBytes(gatewayState.flows)),
        ]
    }
}
