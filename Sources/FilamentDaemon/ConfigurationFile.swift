import Glibc

/// Reads a configuration file as UTF-8 text (at most 1 MiB).
public enum ConfigurationFile {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    public static func read(_ path: String) throws(Failure) -> String {
        guard let f = fopen(path, "rb") else {
            throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= 1 << 20 {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        guard bytes.count <= 1 << 20 else { throw Failure(description: "\(path) is larger than 1 MiB") }
        return String(decoding: bytes, as: UTF8.self)
    }
}
