/// Everything that can go wrong with the state directory, the identity file or a persisted counter.
/// Every case names the path and `description` says how an operator fixes it. None of these is ever
/// "handled" by replacing a file: a damaged identity or counter stops the daemon until a human acts.
public enum StateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: the operation's name, the path it worked on and `errno`.
    case system(operation: String, path: String, errno: Int32)
    /// The state path exists but is not a directory.
    case notADirectory(path: String)
    /// The directory is writable by its group or by everyone (mode shown in octal).
    case insecureDirectory(path: String, mode: UInt32)
    /// Another process (another filamentd) holds the state directory's lock.
    case inUse(path: String)
    /// The directory or file belongs to another user.
    case wrongOwner(path: String, owner: UInt32, expected: UInt32)
    /// The key file is readable or writable by group or others.
    case insecureKeyFile(path: String, mode: UInt32)
    /// A state file (not the key) is writable by group or others.
    case insecureFile(path: String, mode: UInt32)
    /// A state file is a symlink, a directory, a device, ... instead of a regular file.
    case notARegularFile(path: String)
    /// The identity file exists but cannot be trusted. It is never replaced automatically.
    case corruptKeyFile(path: String, defect: FileDefect)
    /// A counter file exists but cannot be read. It is never reset automatically.
    case corruptCounterFile(path: String, defect: FileDefect)
    /// A file name that is empty, contains `/`, starts with `.` or is too long.
    case invalidFileName(String)
    /// The counter cannot move further without wrapping its 64 bits.
    case counterExhausted(path: String)
    /// An argument that makes no sense (for example a block size of 0).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .system(op, path, e):
            return "\(op)(\(path)) failed: \(errnoName(e)) (errno \(e))\(systemHint(e, path: path))"
        case let .notADirectory(path):
            return "state directory \(path) exists but is not a directory; move it away or choose another state directory"
        case let .insecureDirectory(path, mode):
            return "state directory \(path) has mode \(octal(mode)) (writable by group or others); fix: chmod 700 \(path)"
        case let .inUse(path):
            return "state directory \(path) is in use by another process (another filamentd?); stop it or give this one its own state directory"
        case let .wrongOwner(path, owner, expected):
            return "\(path) is owned by uid \(owner), but filament runs as uid \(expected); fix: chown \(expected) \(path) (or run as its owner)"
        case let .insecureKeyFile(path, mode):
            return "key file \(path) has mode \(octal(mode)) (group or others may read it); fix: chmod 600 \(path), "
                + "and if someone else may have read it, treat the key as compromised"
        case let .insecureFile(path, mode):
            return "\(path) has mode \(octal(mode)) (writable by group or others); fix: chmod 600 \(path)"
        case let .notARegularFile(path):
            return "\(path) is not a regular file (symlinks are not followed); replace it with the real file"
        case let .corruptKeyFile(path, defect):
            return "identity file \(path) is unusable (\(defect)); it was NOT replaced. Restore it from a backup, "
                + "or delete it to create a NEW identity with a NEW mesh address (see docs/identity.md)"
        case let .corruptCounterFile(path, defect):
            return "counter file \(path) is unusable (\(defect)); it was NOT reset. Restore it from a backup or set a value "
                + "above anything used before (see docs/identity.md, 'Counters')"
        case let .invalidFileName(name):
            return "invalid state file name \"\(name)\": must be 1...200 characters, no '/', not starting with '.'"
        case let .counterExhausted(path):
            return "counter \(path) cannot advance further without wrapping 64 bits"
        case let .invalidArgument(what):
            return "invalid argument: \(what)"
        }
    }
}

private func octal(_ mode: UInt32) -> String {
    let s = String(mode & 0o7777, radix: 8)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}
