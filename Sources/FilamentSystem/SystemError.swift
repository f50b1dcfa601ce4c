import Glibc

/// A failed system call: the operation's name, the errno it returned and the C library's text for it.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was attempted, e.g. `"bind(udp6 eth0)"`.
    public var operation: String
    /// The errno value.
    public var code: Int32
    /// `strerror(code)`.
    public var message: String

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
        self.message = String(cString: strerror(code))
    }

    public var description: String { "\(operation): \(message) (errno \(code))" }
}
