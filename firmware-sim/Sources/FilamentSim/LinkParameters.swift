import FilamentCore

/// How one direction of a link behaves.
public struct LinkParameters: Hashable, Sendable, Codable {
    /// Probability (0...1) that a frame is lost.
    public var loss: Double
    /// Fixed one-way propagation delay, in milliseconds.
    public var latencyMs: Double
    /// Uniform random extra delay in 0...jitterMs milliseconds.
    public var jitterMs: Double
    /// Optional bandwidth cap in kbit/s: frames are serialised one after the other (0 = unlimited).
    public var bandwidthKbps: Double

    public init(loss: Double = 0, latencyMs: Double = 1, jitterMs: Double = 0.5, bandwidthKbps: Double = 0) {
        self.loss = loss; self.latencyMs = latencyMs; self.jitterMs = jitterMs; self.bandwidthKbps = bandwidthKbps
    }

    public static let `default` = LinkParameters()

    enum CodingKeys: String, CodingKey { case loss, latencyMs = "latency_ms", jitterMs = "jitter_ms", bandwidthKbps = "bandwidth_kbps" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        loss = try c.decodeIfPresent(Double.self, forKey: .loss) ?? 0
        latencyMs = try c.decodeIfPresent(Double.self, forKey: .latencyMs) ?? 1
        jitterMs = try c.decodeIfPresent(Double.self, forKey: .jitterMs) ?? 0.5
        bandwidthKbps = try c.decodeIfPresent(Double.self, forKey: .bandwidthKbps) ?? 0
    }
}

/// An undirected radio link between nodes `a` and `b` (a < b) with one parameter set per direction.
public struct Link: Hashable, Sendable {
    public var a: Int
    public var b: Int
    /// Parameters for frames going a -> b.
    public var forward: LinkParameters
    /// Parameters for frames going b -> a.
    public var backward: LinkParameters
    /// True while the link carries frames (cut/restore and partitions flip it).
    public var up: Bool = true

    public init(_ a: Int, _ b: Int, forward: LinkParameters = .default, backward: LinkParameters = .default) {
        self.a = min(a, b); self.b = max(a, b)
        if a <= b { self.forward = forward; self.backward = backward } else { self.forward = backward; self.backward = forward }
    }

    /// Parameters for a frame sent by `from`.
    @inline(__always) public func parameters(from: Int) -> LinkParameters { from == a ? forward : backward }

    /// The cost of this link as a shortest-path oracle sees it: expected transmissions (ETX) scaled by
    /// 256, like a Babel link cost on a lossless link.
    public var cost: Double {
        let df = 1 - forward.loss, db = 1 - backward.loss
        guard df > 0, db > 0 else { return .infinity }
        return 256 / (df * db)
    }
}
