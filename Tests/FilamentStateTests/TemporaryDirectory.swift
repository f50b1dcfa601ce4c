#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A fresh directory under /tmp (mode 0700, from mkdtemp), removed with everything in it on deinit.
final class TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/filament-state-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: errno \(errno)")
        path = String(cString: made!)
    }

    func sub(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Reads a whole file (test helper).
func readBytes(_ path: String) -> [UInt8]? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return [UInt8](data)
}

/// Writes a whole file with the given mode (test helper).
func writeBytes(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
    precondition(fd >= 0, "open \(path): errno \(errno)")
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    fchmod(fd, mode)
    close(fd)
}

/// st_mode & 0o7777 of a path.
func modeOf(_ path: String) -> UInt32 {
    var st = stat()
    precondition(lstat(path, &st) == 0, "lstat \(path): errno \(errno)")
    return UInt32(st.st_mode) & 0o7777
}

/// The inode number of a path.
func inodeOf(_ path: String) -> UInt64 {
    var st = stat()
    precondition(stat(path, &st) == 0, "stat \(path): errno \(errno)")
    return UInt64(st.st_ino)
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

func unhex(_ s: String) -> [UInt8] {
    var out = [UInt8]()
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2)
        out.append(UInt8(s[i..<j], radix: 16)!)
        i = j
    }
    return out
}
