import Glibc

/// Plain-text log lines on stderr (`filamentd: LEVEL: message`), filtered by level. Payloads and
/// client destinations are never passed to it.
public struct DaemonLog: Sendable {
    public var level: DaemonConfiguration.LogLevel

    public init(level: DaemonConfiguration.LogLevel) { self.level = level }

    static func rank(_ l: DaemonConfiguration.LogLevel) -> Int {
        switch l {
        case .error: 0
        case .warning: 1
        case .info: 2
        case .debug: 3
        }
    }

    public func log(_ l: DaemonConfiguration.LogLevel, _ message: @autoclosure () -> String) {
        guard Self.rank(l) <= Self.rank(level) else { return }
        let line = "filamentd: \(l.rawValue): \(message())\n"
        var bytes = Array(line.utf8)
        if bytes.count > 4096 { bytes = Array(bytes.prefix(4095)) + [0x0A] }
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    public func error(_ m: @autoclosure () -> String) { log(.error, m()) }
    public func warning(_ m: @autoclosure () -> String) { log(.warning, m()) }
    public func info(_ m: @autoclosure () -> String) { log(.info, m()) }
    public func debug(_ m: @autoclosure () -> String) { log(.debug, m()) }
}
