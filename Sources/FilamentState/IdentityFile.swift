import FilamentCore
import FilamentCrypto

/// The node's identity file: one 32-byte Ed25519 seed from which `NodeKeyPair` derives the NodeID,
/// the X25519 link key, the mesh address and the router id. It is created once, on first start, and
/// from then on only ever read: a damaged file is an error, never a reason to make a new key, because a
/// new key is a new mesh address (docs/identity.md).
///
/// Byte layout (60 bytes, integers big-endian):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `FLMT-KEY` (ASCII) |
/// | 8 | 2 | format version, 1 |
/// | 10 | 2 | key type, 1 = Ed25519 seed |
/// | 12 | 32 | seed |
/// | 44 | 16 | BLAKE2b-128 of bytes 0..<44 |
public enum IdentityFile {
    /// The file name inside the state directory.
    public static let defaultName = "identity.key"
    /// Total file length.
    public static let length = 60
    /// The format version this build writes and reads.
    public static let version: UInt16 = 1
    /// Key type 1: a 32-byte Ed25519 seed.
    public static let keyTypeEd25519Seed: UInt16 = 1
    /// `FLMT-KEY`.
    public static let magic: [UInt8] = Array("FLMT-KEY".utf8)
    static let checksumLength = 16
    static let bodyLength = 44

    /// How `loadOrCreate` found the identity.
    public enum Origin: Sendable, Equatable {
        /// An existing file was read.
        case loaded
        /// No file existed; a new seed was generated and written.
        case created
    }

    /// A key pair and where it came from. Borrow `keyPair`, or move it out with `takeKeyPair()`.
    public struct Loaded: ~Copyable {
        public var keyPair: NodeKeyPair
        public let origin: Origin

        /// Moves the key pair out (other modules cannot partially consume this struct).
        public consuming func takeKeyPair() -> NodeKeyPair { keyPair }
    }

    /// The file image for `seed` (secret: it contains the seed).
    public static func encode(seed: borrowing SecretBytes) throws(StateError) -> SecretBytes {
        guard seed.count == NodeKeyPair.seedLength else {
            throw .invalidArgument("seed must be \(NodeKeyPair.seedLength) bytes, got \(seed.count)")
        }
        var body = magic
        body += [UInt8(version >> 8), UInt8(version & 0xFF), UInt8(keyTypeEd25519Seed >> 8), UInt8(keyTypeEd25519Seed & 0xFF)]
        seed.withUnsafeBytes { body.append(contentsOf: $0) }
        let sum = Sodium.blake2b(body, outputLength: checksumLength)
        var image = body + sum
        defer { wipe(&body); wipe(&image) }
        return SecretBytes(copying: image)
    }

    /// The seed in a file image; `path` is only used in errors.
    public static func decodeSeed(_ image: UnsafeRawBufferPointer, path: String) throws(StateError) -> SecretBytes {
        var seed = SecretBytes(zeroedCount: NodeKeyPair.seedLength)
        try seed.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) throws(StateError) in
            try check(image, path: path, seedOut: out)
        }
        return seed
    }

    /// Validates a file image and copies its seed into `seedOut` (32 bytes).
    static func check(_ image: UnsafeRawBufferPointer, path: String, seedOut: UnsafeMutableRawBufferPointer) throws(StateError) {
        guard image.count >= length else {
            throw .corruptKeyFile(path: path, defect: .truncated(size: image.count, expected: length))
        }
        guard image.count == length else {
            throw .corruptKeyFile(path: path, defect: .tooLong(size: image.count, expected: length))
        }
        guard image.prefix(8).elementsEqual(magic) else { throw .corruptKeyFile(path: path, defect: .badMagic) }
        var body = Array(image.prefix(bodyLength))
        defer { wipe(&body) }
        let sum = Array(image[bodyLength..<length])
        // Checksum first: a flipped bit in the version is damage, not a future format.
        guard constantTimeEquals(Sodium.blake2b(body, outputLength: checksumLength), sum) else {
            throw .corruptKeyFile(path: path, defect: .checksumMismatch)
        }
        let v = UInt16(image[8]) << 8 | UInt16(image[9])
        guard v == version else { throw .corruptKeyFile(path: path, defect: .unsupportedVersion(v)) }
        let type = UInt16(image[10]) << 8 | UInt16(image[11])
        guard type == keyTypeEd25519Seed else { throw .corruptKeyFile(path: path, defect: .badHeader) }
        seedOut.copyMemory(from: UnsafeRawBufferPointer(rebasing: image[12..<44]))
    }

    /// Reads and checks the identity file. A missing file is `StateError.system(open, ENOENT)`;
    /// a group/other-accessible, foreign-owned, truncated or damaged file is its own error.
    public static func load(from directory: StateDirectory, name: String = defaultName) throws(StateError) -> NodeKeyPair {
        let full = directory.path(of: name)
        guard let contents = try directory.readFile(named: name, limit: length) else {
            throw .system(operation: "open", path: full, errno: 2 /* ENOENT */)
        }
        return try keyPair(from: contents, path: full)
    }

    /// Writes a new identity file with a fresh random seed. Fails (EEXIST) if one exists: an
    /// identity is never overwritten.
    public static func create(in directory: StateDirectory, name: String = defaultName) throws(StateError) -> NodeKeyPair {
        let seed = NodeKeyPair.newSeed()
        return try create(in: directory, name: name, seed: seed)
    }

    /// Writes an identity file holding `seed` (to restore a backed-up seed, or in tests). Fails
    /// (EEXIST) if one exists.
    public static func create(in directory: StateDirectory, name: String = defaultName,
                              seed: borrowing SecretBytes) throws(StateError) -> NodeKeyPair {
        let image = try encode(seed: seed)
        try image.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws(StateError) in
            try directory.writeAtomically(named: name, bytes: raw, replace: false)
        }
        do {
            return try NodeKeyPair(seed: seed)
        } catch {
            throw .invalidArgument("key derivation failed: \(error)")
        }
    }

    /// First start: creates the identity. Every later start: loads it. Anything wrong with an
    /// existing file is thrown; the file is never replaced.
    public static func loadOrCreate(in directory: StateDirectory, name: String = defaultName) throws(StateError) -> Loaded {
        if let contents = try directory.readFile(named: name, limit: length) {
            return Loaded(keyPair: try keyPair(from: contents, path: directory.path(of: name)), origin: .loaded)
        }
        do {
            return Loaded(keyPair: try create(in: directory, name: name), origin: .created)
        } catch {
            // Another process created it between our read and our link: use theirs.
            if case .system(_, _, let e) = error, e == 17 /* EEXIST */ {
                return Loaded(keyPair: try load(from: directory, name: name), origin: .loaded)
            }
            throw error
        }
    }

    private static func keyPair(from contents: consuming FileContents, path: String) throws(StateError) -> NodeKeyPair {
        let uid = currentUID()
        guard contents.owner == uid else { throw .wrongOwner(path: path, owner: contents.owner, expected: uid) }
        guard contents.mode & 0o077 == 0 else { throw .insecureKeyFile(path: path, mode: contents.mode) }
        let count = contents.count
        var seed = SecretBytes(zeroedCount: NodeKeyPair.seedLength)
        try contents.buffer.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws(StateError) in
            try seed.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) throws(StateError) in
                try check(UnsafeRawBufferPointer(rebasing: raw[0..<count]), path: path, seedOut: out)
            }
        }
        do {
            return try NodeKeyPair(seed: seed)
        } catch {
            throw .invalidArgument("key derivation failed: \(error)")
        }
    }
}
