import Foundation
import Testing
@testable import FilamentLab

#if canImport(Glibc)
import Glibc
#endif

/// The daemon launcher (`Shell.spawn` → `Child`): real child processes, no namespaces needed.
@Suite struct ChildLauncherTests {
    private func tempLog() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("fl-child-\(UUID().uuidString).log").path
    }

    /// Exit codes and signals are decoded like a shell does; the child is reaped (no zombie left).
    @Test(.timeLimit(.minutes(1)))
    func exitStatusAndReaping() throws {
        let log = tempLog()
        defer { unlink(log) }
        let ok = try Shell.spawn(["sh", "-c", "echo out; echo err >&2; exit 3"], log: log)
        ok.waitUntilExit()
        #expect(!ok.isRunning)
        #expect(ok.terminationStatus == 3)
        #expect(kill(ok.processIdentifier, 0) != 0, "the ended child was not reaped")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("out") && text.contains("err"), "stdout and stderr both go to the log")

        let sleeper = try Shell.spawn(["sleep", "30"], log: log)
        #expect(sleeper.isRunning)
        kill(sleeper.processIdentifier, SIGKILL)
        Shell.reap(sleeper, timeout: 5)
        #expect(!sleeper.isRunning)
        #expect(sleeper.terminationStatus == 128 + SIGKILL)
        let again = try String(contentsOfFile: log, encoding: .utf8)
        #expect(again.hasPrefix(text), "a second child appends to the log, it does not truncate it")
    }

    /// Launching does not wait for the child: 50 sleepers start back to back in well under the
    /// time one of them runs, all distinct PIDs, and reap kills those still running.
    @Test(.timeLimit(.minutes(1)))
    func launchesWithoutWaiting() throws {
        let log = tempLog()
        defer { unlink(log) }
        let t = Shell.now()
        let kids = try (0..<50).map { _ in try Shell.spawn(["sleep", "20"], log: log) }
        let spread = Shell.now() - t
        defer { for k in kids { Shell.reap(k, timeout: 0) } }
        #expect(Set(kids.map(\.processIdentifier)).count == 50)
        #expect(spread < 10, "50 launches took \(spread) s: the launcher waited for its children")
        #expect(kids.allSatisfy { $0.isRunning })
        for k in kids { Shell.reap(k, timeout: 0) }
        #expect(kids.allSatisfy { !$0.isRunning })
    }

    /// A program that does not exist is a clear error from `env` (exit 127), not a crash.
    @Test(.timeLimit(.minutes(1)))
    func missingProgram() throws {
        let log = tempLog()
        defer { unlink(log) }
        let c = try Shell.spawn(["fl-no-such-program-\(getpid())"], log: log)
        c.waitUntilExit()
        #expect(c.terminationStatus == 127)
    }
}
