import FilamentCore
import FilamentCrypto
import Foundation
import Glibc
import Testing
@testable import FilamentDaemon

@Suite struct NetworkKeyFileTests {
    func write(_ bytes: [UInt8], mode: mode_t = 0o600) throws -> String {
        let path = "/tmp/fild-\(getpid())-key-\(UInt32.random(in: 0 ... .max))"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        chmod(path, mode)
        return path
    }

    /// 32 raw bytes and 64 hex digits (with a newline) give the same key.
    @Test func rawAndHexAgree() throws {
        let raw = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        let hex = raw.map { String(format: "%02x", $0) }.joined() + "\n"
        let a = try write(raw), b = try write(Array(hex.utf8))
        defer { unlink(a); unlink(b) }
        let ka = try NetworkKeyFile.load(path: a), kb = try NetworkKeyFile.load(path: b)
        let bytesA = ka.withUnsafeBytes { Array($0) }, bytesB = kb.withUnsafeBytes { Array($0) }
        #expect(bytesA == raw)
        #expect(bytesB == raw)
    }

    /// A key readable by others, a short file and a non-hex file are refused with a plain message.
    @Test func badFilesAreRefused() throws {
        let open = try write([UInt8](repeating: 1, count: 32), mode: 0o644)
        let short = try write([UInt8](repeating: 1, count: 20))
        let notHex = try write(Array(String(repeating: "zz", count: 32).utf8))
        defer { unlink(open); unlink(short); unlink(notHex) }
        #expect(throws: NetworkKeyFile.Failure.self) { _ = try NetworkKeyFile.load(path: open) }
        #expect(throws: NetworkKeyFile.Failure.self) { _ = try NetworkKeyFile.load(path: short) }
        #expect(throws: NetworkKeyFile.Failure.self) { _ = try NetworkKeyFile.load(path: notHex) }
        do { _ = try NetworkKeyFile.load(path: open) } catch { #expect(error.description.contains("chmod 600")) }
        #expect(throws: NetworkKeyFile.Failure.self) { _ = try NetworkKeyFile.load(path: "/nonexistent/fild-key") }
    }
}

@Suite struct KernelRoutePolicyTests {
    /// Only unique local prefixes outside the mesh /48 get kernel routes into the TUN device.
    @Test func onlyULAOutsideTheMesh() {
        #expect(DaemonRuntime.wantsKernelRoute(Prefix("fd99:1:2:3::/64")!))
        #expect(DaemonRuntime.wantsKernelRoute(Prefix("fc00:1::/32")!))
        #expect(!DaemonRuntime.wantsKernelRoute(Prefix("fd66:696c:616d:1::/64")!))
        #expect(!DaemonRuntime.wantsKernelRoute(Prefix("fd66:696c:616d::/48")!))
        #expect(!DaemonRuntime.wantsKernelRoute(Prefix("2001:db8::/32")!))
        #expect(!DaemonRuntime.wantsKernelRoute(Prefix("::/0")!))
        #expect(!DaemonRuntime.wantsKernelRoute(Prefix("192.168.4.0/24")!))
    }
}
