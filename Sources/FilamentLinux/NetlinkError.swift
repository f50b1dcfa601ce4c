/// A failed libnl operation: the operation's name, libnl's error code (NLE_*, positive) and its text.
public struct NetlinkError: Error, Equatable, Sendable, CustomStringConvertible {
    public var operation: String
    public var code: Int32
    public var message: String
    public init(operation: String, code: Int32, message: String) {
        self.operation = operation; self.code = code; self.message = message
    }
    public var description: String { "\(operation): \(message) (libnl \(code))" }
}
