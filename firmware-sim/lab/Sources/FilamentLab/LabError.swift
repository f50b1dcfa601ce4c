/// Why a lab run could not go on.
public enum LabError: Error, CustomStringConvertible, Sendable {
    case badInput(String)
    case command(String, status: Int32, stderr: String)
    case timeout(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .badInput(let m): return "bad input: \(m)"
        case .command(let c, let s, let e): return "command failed (exit \(s)): \(c)\n\(e)"
        case .timeout(let m): return "timed out: \(m)"
        case .unavailable(let m): return m
        }
    }
}
