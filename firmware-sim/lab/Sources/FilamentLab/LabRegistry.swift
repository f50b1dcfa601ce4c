import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every lab alive in this process, so a signal can tear them all down.
final class LabRegistry: @unchecked Sendable {
    static let shared = LabRegistry()
    private let lock = NSLock()
    private var labs: [ObjectIdentifier: Lab] = [:]
    private var sources: [DispatchSourceSignal] = []

    func add(_ lab: Lab) {
        lock.withLock {
            labs[ObjectIdentifier(lab)] = lab
            if sources.isEmpty { installSignalHandlers() }
        }
    }
    func remove(_ lab: Lab) { lock.withLock { _ = labs.removeValue(forKey: ObjectIdentifier(lab)) } }
    func all() -> [Lab] { lock.withLock { Array(labs.values) } }

    private func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                FileHandle.standardError.write(Data("filament-lab: signal \(sig), tearing down\n".utf8))
                for lab in self?.all() ?? [] { lab.teardown() }
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
