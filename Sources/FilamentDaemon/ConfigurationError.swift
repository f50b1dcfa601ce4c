/// A problem in a configuration file or flag, in plain language, with the line it is on.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible, Sendable {
    /// 1-based line in the file, when the problem is in a file.
    public var line: Int?
    public var message: String
    public init(line: Int?, _ message: String) { self.line = line; self.message = message }
    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}
