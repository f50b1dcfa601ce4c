import FilamentCrypto
import Glibc

/// Reads a network key file: exactly 32 raw bytes, or 64 hex digits (surrounding whitespace allowed).
/// A key file readable by group or others is refused (the key admits nodes to the mesh).
public enum NetworkKeyFile {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public static func load(path: String) throws(Failure) -> SecretBytes {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw Failure(description: "cannot read network key file \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "network key file \(path) is not a regular file") }
        guard st.st_mode & 0o077 == 0 else {
            throw Failure(description: "network key file \(path) is readable by group or others (chmod 600 \(path))")
        }
        guard let f = fopen(path, "rb") else {
            throw Failure(description: "cannot open network key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = fread(&buffer, 1, buffer.count, f)
        defer { for i in buffer.indices { buffer[i] = 0 } }
        if n == 32 { return SecretBytes(copying: Array(buffer[0..<32])) }
        var hex = Array(buffer[0..<n])
        defer { for i in hex.indices { hex[i] = 0 } }
        while let last = hex.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { hex.removeLast() }
        while let first = hex.first, first == 0x20 || first == 0x09 || first == 0x0A { hex.removeFirst() }
        guard hex.count == 64 else {
            throw Failure(description: "network key file \(path) must hold 32 bytes or 64 hex digits (found \(n) bytes)")
        }
        var key = [UInt8](repeating: 0, count: 32)
        defer { for i in key.indices { key[i] = 0 } }
        for i in 0..<32 {
            guard let hi = nibble(hex[2 * i]), let lo = nibble(hex[2 * i + 1]) else {
                throw Failure(description: "network key file \(path) contains a character that is not a hex digit")
            }
            key[i] = hi << 4 | lo
        }
        return SecretBytes(copying: key)
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}
