import FilamentCore
import Foundation

/// A scenario file (docs/simulator.md): topology, gateways, duration, seed, a timeline and assertions.
public struct Scenario: Codable, Sendable {
    public struct TopologySpec: Codable, Sendable {
        public var type: String
        public var width: Int?
        public var height: Int?
        public var count: Int?
        public var clusters: Int?
        public var size: Int?
        public var area: Double?
        public var range: Double?
        public var floors: Int?
        public var perFloor: Int?
        public var bulbs: Int?
        public var degree: Double?
        public var file: String?
        enum CodingKeys: String, CodingKey {
            case type, width, height, count, clusters, size, area, range, floors, perFloor = "per_floor", bulbs, degree, file
        }
        public init(type: String) { self.type = type }
    }
    public struct GatewaySpec: Codable, Sendable {
        public var placement: String?
        public var count: Int?
        public var ids: [Int]?
        public init(placement: String? = nil, count: Int? = nil, ids: [Int]? = nil) { self.placement = placement; self.count = count; self.ids = ids }
    }
    public struct LinkOverride: Codable, Sendable {
        public var a: Int
        public var b: Int
        public var forward: LinkParameters?
        public var backward: LinkParameters?
    }
    public struct Step: Codable, Sendable {
        public var at: Double
        public var action: String
        public var nodes: [Int]?
        public var group: String?
        public var a: Int?
        public var b: Int?
        public var axis: String?
        public var value: Double?
        public var gateway: Int?
        public var until: Double?
        public var ratePerMinute: Double?
        public var downtimeSeconds: Double?
        public var count: Int?
        public var label: String?
        enum CodingKeys: String, CodingKey {
            case at, action, nodes, group, a, b, axis, value, gateway, until, ratePerMinute = "rate_per_minute",
                 downtimeSeconds = "downtime_seconds", count, label
        }
        public init(at: Double, action: String) { self.at = at; self.action = action }
    }
    /// Data flows (docs/simulator.md, "Data traffic"); every field optional.
    public struct TrafficSpec: Codable, Sendable {
        public var intervalMs: Double?
        public var gatewayFlows: Int?
        public var pairFlows: Int?
        enum CodingKeys: String, CodingKey { case intervalMs = "interval_ms", gatewayFlows = "gateway_flows", pairFlows = "pair_flows" }
        public init() {}
    }
    public struct Assertion: Codable, Sendable {
        public var metric: String
        public var op: String
        public var value: Double
        public init(metric: String, op: String, value: Double) { self.metric = metric; self.op = op; self.value = value }
    }

    public var name: String
    public var description: String?
    public var seed: UInt64?
    public var durationSeconds: Double
    public var engine: String?
    public var crypto: CryptoMode?
    public var sampleIntervalMs: Double?
    public var maxSampledDestinations: Int?
    public var topology: TopologySpec
    public var link: LinkParameters?
    public var linkOverrides: [LinkOverride]?
    public var gateways: GatewaySpec?
    public var groups: [String: [Int]]?
    public var initiallyOff: [Int]?
    public var timeline: [Step]?
    public var asserts: [Assertion]?
    public var traffic: TrafficSpec?

    enum CodingKeys: String, CodingKey {
        case name, description, seed, durationSeconds = "duration_seconds", engine, crypto, sampleIntervalMs = "sample_interval_ms",
             maxSampledDestinations = "max_sampled_destinations", topology, link, linkOverrides = "link_overrides",
             gateways, groups, initiallyOff = "initially_off", timeline, asserts, traffic
    }

    /// A scenario built in code (the `city` command, tests); everything else takes its default.
    public init(name: String, durationSeconds: Double, topology: TopologySpec) {
        self.name = name; self.durationSeconds = durationSeconds; self.topology = topology
    }

    /// Parses a scenario; errors name the problem (and the JSON path when the decoder knows it).
    public static func parse(_ data: Data) throws -> Scenario {
        do { return try JSONDecoder().decode(Scenario.self, from: data) }
        catch let e as DecodingError { throw SimError.invalid("scenario: \(Self.describe(e))") }
        catch { throw SimError.invalid("scenario: \(error)") }
    }

    public static func load(path: String) throws -> (Scenario, baseDirectory: String) {
        guard let data = FileManager.default.contents(atPath: path) else { throw SimError.invalid("cannot read scenario file \(path)") }
        let dir = (path as NSString).deletingLastPathComponent
        return (try parse(data), dir)
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: [CodingKey]) -> String { c.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined() }
        switch e {
        case .keyNotFound(let k, let ctx): return "missing key \"\(k.stringValue)\" at \(path(ctx.codingPath).isEmpty ? "top level" : path(ctx.codingPath))"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx): return "wrong type at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        case .dataCorrupted(let ctx): return "invalid JSON at \(path(ctx.codingPath)): \(ctx.debugDescription) \(ctx.underlyingError.map { "\($0)" } ?? "")"
        @unknown default: return "\(e)"
        }
    }
}
