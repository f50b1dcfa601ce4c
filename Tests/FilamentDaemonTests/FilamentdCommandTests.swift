import Foundation
import Testing

/// `filamentd check-config` and `filamentd init` (no root needed).
@Suite struct FilamentdCommandTests {
    func run(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DaemonLab.filamentd)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// check-config names the file and line of each problem and exits 1; a good file exits 0.
    @Test func checkConfigReportsLineNumbers() throws {
        let dir = "/tmp/fild-\(getpid())-cfg"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "name: a\nintefaces: [wlan0]\nport: 70000\n".write(toFile: "\(dir)/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try run(["check-config", "\(dir)/bad.yaml"])
        #expect(bad.status == 1)
        #expect(bad.output.contains("bad.yaml: line 2: unknown setting 'intefaces'"))
        #expect(bad.output.contains("line 3: 'port' must be 1-65535"))
        try "interfaces: [wlan0]\n".write(toFile: "\(dir)/good.yaml", atomically: true, encoding: .utf8)
        let good = try run(["check-config", "\(dir)/good.yaml"])
        #expect(good.status == 0)
    }

    /// init creates the identity once (the second run prints the same node id) and a starter
    /// configuration that check-config accepts.
    @Test func initWritesIdentityAndStarterConfig() throws {
        let dir = "/tmp/fild-\(getpid())-init"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try run(["init", "--state-dir", "\(dir)/state", "--config", "\(dir)/filamentd.yaml"])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("created identity"))
        let id = first.output.split(separator: "\n").first { $0.hasPrefix("node id: ") }
        #expect(id?.count == "node id: ".count + 64)
        #expect(first.output.contains("mesh address: fd66:696c:616d:"))
        let second = try run(["init", "--state-dir", "\(dir)/state"])
        #expect(second.output.contains("existing identity"))
        #expect(second.output.split(separator: "\n").first { $0.hasPrefix("node id: ") } == id)
        #expect(try run(["check-config", "\(dir)/filamentd.yaml"]).status == 0)
        #expect(try run(["init", "--state-dir", "\(dir)/state", "--config", "\(dir)/filamentd.yaml"]).status == 1)
    }

    /// A state directory writable by others is refused before anything starts.
    @Test func worldWritableStateDirectoryIsRefused() throws {
        let dir = "/tmp/fild-\(getpid())-ww"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o777)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try run(["run", "--state-dir", dir, "--control-socket", "\(dir)/c.sock", "--tun", "filtestww"])
        #expect(r.status == 1)
        #expect(r.output.contains("state directory"))
    }
}
