import Foundation
import Testing
@testable import FilamentControl

@Suite struct LineFramerTests {
    /// Lines split on newlines across arbitrary chunk boundaries; CR is stripped; blanks are skipped.
    @Test func splitsAcrossChunks() {
        var f = LineFramer(maxLineLength: 100)
        var out = f.feed(Array("{\"a\":1}\r\n\n{\"b\"".utf8))
        out += f.feed(Array(":2}\n".utf8))
        #expect(out == [.line(Array("{\"a\":1}".utf8)), .line(Array("{\"b\":2}".utf8))])
        #expect(f.bufferedCount == 0)
    }

    /// A line past the limit is reported once, dropped up to its newline, and the next line still works;
    /// the buffer never holds more than the limit.
    @Test func overlongLineIsDroppedNotBuffered() {
        var f = LineFramer(maxLineLength: 16)
        var out: [LineFramer.Output] = []
        for _ in 0..<1000 { out += f.feed([UInt8](repeating: 0x41, count: 64)); #expect(f.bufferedCount <= 16) }
        out += f.feed(Array("\nok\n".utf8))
        #expect(out == [.tooLong, .line(Array("ok".utf8))])
    }
}

@Suite struct ControlJSONTests {
    /// Garbage, wrong versions and unknown commands become error answers, never crashes.
    @Test(arguments: [
        ("not json", "bad_request"),
        ("{\"version\":1}", "bad_request"),
        ("[1,2,3]", "bad_request"),
        ("{\"version\":9,\"id\":1,\"command\":\"status\",\"args\":{}}", "unsupported_version"),
        ("{\"version\":1,\"id\":1,\"command\":\"rm -rf\",\"args\":{}}", "unknown_command"),
    ])
    func badRequests(line: String, code: String) {
        guard case .failure(let e) = ControlJSON.decodeRequest(Data(line.utf8)) else {
            Issue.record("accepted \(line)"); return
        }
        #expect(e.code == code)
    }

    /// A request and a typed response survive encoding and decoding unchanged, as one line each.
    @Test func roundTrip() throws {
        let req = ControlRequest(id: 7, command: "routes", args: ["x": "y"])
        let line = try ControlJSON.encodeLine(req)
        #expect(line.last == 0x0A)
        #expect(line.dropLast().contains(0x0A) == false)
        guard case .success(let back) = ControlJSON.decodeRequest(line.dropLast()) else { Issue.record("rejected"); return }
        #expect(back == req)
        let routes = [RouteInfo(destination: "fd66:696c:616d::1/128", via: "fe80::1", interface: "wlan0", metric: 256, seqno: 3, selected: true)]
        let resp = try ControlJSON.encodeLine(ControlResponse(id: 7, result: routes))
        let decoded = try JSONDecoder().decode(ControlResponse<[RouteInfo]>.self, from: Data(resp))
        #expect(decoded.result == routes && decoded.ok && decoded.id == 7)
    }

    /// The JSON schema's key names are exactly the documented ones (they are a stable interface), and
    /// absent values are null with the key present.
    @Test func stableKeysWithNulls() throws {
        let s = StatusInfo(node_id: "ab", name: nil, address: "fd66::1", version: "0.1.0", uptime_seconds: 5,
                           neighbours: 2, routes: 3, gateway: nil, health: "ok", problems: [])
        let line = String(decoding: try ControlJSON.encodeLine(s), as: UTF8.self)
        #expect(line == """
            {"address":"fd66::1","gateway":null,"health":"ok","name":null,"neighbours":2,"node_id":"ab","problems":[],\
            "routes":3,"uptime_seconds":5,"version":"0.1.0"}

            """)
        let n = NeighbourInfo(node_id: "a", name: nil, address: "fe80::1", interface: "veth0", cost: 256, rxcost: 256, txcost: 256, rtt_ms: nil)
        let nobj = try #require(try JSONSerialization.jsonObject(with: Data(try ControlJSON.encodeLine(n))) as? [String: Any])
        #expect(Set(nobj.keys) == ["node_id", "name", "address", "interface", "cost", "rxcost", "txcost", "rtt_ms", "cipher"])
        #expect(nobj["rtt_ms"] is NSNull && nobj["name"] is NSNull && nobj["cipher"] is NSNull)
        let r = RouteInfo(destination: "fd66::1/128", via: nil, interface: nil, metric: 0, seqno: 1, selected: true)
        let robj = try #require(try JSONSerialization.jsonObject(with: Data(try ControlJSON.encodeLine(r))) as? [String: Any])
        #expect(Set(robj.keys) == ["destination", "via", "interface", "metric", "seqno", "selected"])
        let g = GatewayInfo(node_id: "a", name: nil, address: "fd66::2", metric: 1, bandwidth_down_kbps: 1, bandwidth_up_kbps: 1,
                            load: 0, healthy: true, draining: false, selected: false)
        let gobj = try #require(try JSONSerialization.jsonObject(with: Data(try ControlJSON.encodeLine(g))) as? [String: Any])
        #expect(Set(gobj.keys) == ["node_id", "name", "address", "metric", "bandwidth_down_kbps", "bandwidth_up_kbps", "load",
                                   "healthy", "draining", "selected"])
        let t = TopologyInfo.Node(node_id: "a", name: nil, address: "fd66::2", gateway: false, answered: false)
        let tobj = try #require(try JSONSerialization.jsonObject(with: Data(try ControlJSON.encodeLine(t))) as? [String: Any])
        #expect(Set(tobj.keys) == ["node_id", "name", "address", "gateway", "answered"])
        let e = MonitorEvent(event: "add", kind: "route", key: "fd66::1/128", detail: nil)
        #expect(String(decoding: try ControlJSON.encodeLine(e), as: UTF8.self) == "{\"detail\":null,\"event\":\"add\",\"key\":\"fd66::1/128\",\"kind\":\"route\"}\n")
        // Decoding the nulls gives the same values back.
        #expect(try JSONDecoder().decode(StatusInfo.self, from: Data(line.utf8)) == s)
    }
}

@Suite struct FormattingTests {
    /// Tables align columns and show infinity and units the way operators read them.
    @Test func tables() {
        let g = [GatewayInfo(node_id: "0123456789abcdef", name: "roof", address: "fd66:696c:616d::9", metric: 512,
                             bandwidth_down_kbps: 100_000, bandwidth_up_kbps: 20_000, load: 40, healthy: true, draining: false, selected: true),
                 GatewayInfo(node_id: "fedcba9876543210", name: nil, address: "fd66:696c:616d::a", metric: 0xFFFF,
                             bandwidth_down_kbps: 1_000_000, bandwidth_up_kbps: 512, load: 0, healthy: false, draining: false, selected: false)]
        #expect(ControlFormat.gateways(g) == """
             NODE      NAME  ADDRESS            METRIC  DOWN/UP   LOAD  STATE
          *  01234567  roof  fd66:696c:616d::9  512     100M/20M  40%   ok
             fedcba98  -     fd66:696c:616d::a  inf     1G/512k   0%    unhealthy

          """)
    }

    /// Monitor lines shorten node ids, keep prefixes and the route detail whole.
    @Test func monitorLines() {
        #expect(ControlFormat.monitorLine(MonitorEvent(event: "flush", kind: "neighbour", key: String(repeating: "ab", count: 32), detail: "v1c stairs"))
                == "flush neighbour abababab v1c stairs")
        #expect(ControlFormat.monitorLine(MonitorEvent(event: "add", kind: "route", key: "fd66::1/128", detail: "via fe80::1 dev v1r metric 512"))
                == "add route fd66::1/128 via fe80::1 dev v1r metric 512")
        #expect(ControlFormat.monitorLine(MonitorEvent(event: "change", kind: "gateway", key: "selected", detail: "none"))
                == "change gateway selected none")
        #expect(ControlFormat.monitorLine(MonitorEvent(event: "change", kind: "gateway", key: "selected", detail: String(repeating: "cd", count: 32)))
                == "change gateway selected cdcdcdcd")
    }

    /// The dot output lists every node once and every link once, and escapes names.
    @Test func dot() {
        let t = TopologyInfo(nodes: [.init(node_id: "aaaaaaaa11", name: "say \"hi\"", address: "fd66::1", gateway: true, answered: true),
                                     .init(node_id: "bbbbbbbb22", name: nil, address: "fd66::2", gateway: false, answered: true)],
                             links: [.init(source: "aaaaaaaa11", target: "bbbbbbbb22", cost: 256)])
        let dot = ControlFormat.topologyDot(t)
        #expect(dot.contains("\"aaaaaaaa\" [label=\"say \\\"hi\\\"\\naaaaaaaa\", shape=box];"))
        #expect(dot.contains("\"aaaaaaaa\" -- \"bbbbbbbb\" [label=\"256\"];"))
        let html = TopologyPicture.html(t)
        #expect(html.contains("<svg") && html.contains("say &quot;hi&quot;"))
        #expect(!html.contains("<script src"))
    }
}
