import FilamentCore
import FilamentWire
import Testing
@testable import FilamentEngine

@Suite struct MeshTests {
    /// A line of 5 converges: every node reaches every other, with no loop at any instant.
    @Test func lineConverges() {
        var m = Mesh.line(5)
        let t = m.runUntilConverged(within: .seconds(5))
        #expect(t != nil)
        #expect(t.map { $0 < .milliseconds(500) } == true)
        #expect(m.loops.isEmpty, "\(m.loops.prefix(3))")
        let p = m.path(from: 0, to: TestIdentity.address(4))
        #expect(p == [0, 1, 2, 3, 4])
    }

    /// A triangle uses the direct links.
    @Test func triangleUsesDirectLinks() {
        var m = Mesh.ring(3)
        m.run(for: .seconds(2))
        #expect(m.path(from: 0, to: TestIdentity.address(1)) == [0, 1])
        #expect(m.path(from: 2, to: TestIdentity.address(0)) == [2, 0])
        #expect(m.loops.isEmpty)
    }
}
