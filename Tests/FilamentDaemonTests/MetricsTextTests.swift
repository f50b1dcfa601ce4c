@testable import FilamentDaemon
import Testing

@Suite struct MetricsTextTests {
    /// One HELP and one TYPE line per family, samples grouped under it in the order added, even
    /// when samples of different families interleave.
    @Test func familiesAreGroupedAndOrdered() {
        var t = MetricsText()
        t.add("filament_drops_total", .counter, help: "Drops.", labels: [("reason", "a")], 3)
        t.add("filament_routes", .gauge, help: "Routes.", 7)
        t.add("filament_drops_total", .counter, help: "Drops.", labels: [("reason", "b")], 0)
        #expect(String(decoding: t.rendered(), as: UTF8.self) == """
            # HELP filament_drops_total Drops.
            # TYPE filament_drops_total counter
            filament_drops_total{reason="a"} 3
            filament_drops_total{reason="b"} 0
            # HELP filament_routes Routes.
            # TYPE filament_routes gauge
            filament_routes 7

            """)
    }

    /// Label values escape backslash, quote and newline; help text escapes backslash and newline.
    @Test func escaping() {
        var t = MetricsText()
        t.add("m", .gauge, help: "a\\b\nc \"q\"", labels: [("interface", "we\"ird\\\n"), ("x", "y")], -1)
        #expect(String(decoding: t.rendered(), as: UTF8.self) == """
            # HELP m a\\\\b\\nc "q"
            # TYPE m gauge
            m{interface="we\\"ird\\\\\\n",x="y"} -1

            """)
    }
}
