/// A reason the daemon cannot start or must stop, in plain language (printed as is, exit status 1).
public struct DaemonFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
