#if canImport(Glibc)
import Glibc
#endif
import FilamentCore
import FilamentCrypto
import Testing
@testable import FilamentState

/// The worked example of docs/identity.md. Computed once (and cross-checked with Python's
/// `cryptography` Ed25519 and `hashlib.blake2b`), then pinned here.
enum WorkedExample {
    static let seed: [UInt8] = Array(0..<32)
    static let publicKey = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    /// The X25519 (Noise static) public key derived from the same seed (checked in Python with u = (1+y)/(1-y)).
    static let x25519Public = "4701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01"
    static let hashInput = "66696c616d656e742d6d6573682d616464726573732d7631" + publicKey
    static let hash = "032bf8ad41870b557d0de75a3c404c5835cfe5c118fc8dba85c6c2475b26b44c"
    static let first10 = "032bf8ad41870b557d0d"
    static let address = "fd66:696c:616d:32b:f8ad:4187:b55:7d0d"
    static let routerID = "f8ad41870b557d0d"
    static let fileImage = "464c4d542d4b455900010001000102030405060708090a0b0c0d0e0f"
        + "101112131415161718191a1b1c1d1e1f64488b22c050d082b004627536ec3161"
}

@Suite struct IdentityFileTests {
    /// A fixed seed gives a fixed NodeID, hash, mesh address and router id (the derivation is pinned).
    @Test func addressDerivationIsPinned() throws {
        let kp = try NodeKeyPair(seed: SecretBytes(copying: WorkedExample.seed))
        #expect(kp.nodeID.hex == WorkedExample.publicKey)
        #expect(hex(kp.x25519Public) == WorkedExample.x25519Public)
        let input = Array("filament-mesh-address-v1".utf8) + kp.nodeID.bytes
        #expect(hex(input) == WorkedExample.hashInput)
        let h = Sodium.blake2b(input, outputLength: 32)
        #expect(hex(h) == WorkedExample.hash)
        #expect(hex(Array(h.prefix(10))) == WorkedExample.first10)
        #expect(kp.nodeID.meshAddress.description == WorkedExample.address)
        #expect(kp.nodeID.meshAddress == IPv6Address(WorkedExample.address)!)
        #expect(MeshPrefix.prefix.contains(kp.nodeID.meshAddress))
        #expect(kp.nodeID.routerID.description == WorkedExample.routerID)
    }

    /// The file image of the worked-example seed is pinned byte for byte (the format cannot drift silently).
    @Test func fileImageIsPinned() throws {
        let image = try IdentityFile.encode(seed: SecretBytes(copying: WorkedExample.seed))
        #expect(image.withUnsafeBytes { hex(Array($0)) } == WorkedExample.fileImage)
        let decoded: [UInt8] = try unhex(WorkedExample.fileImage).withUnsafeBytes { raw in
            let seed = try IdentityFile.decodeSeed(raw, path: "x")
            return seed.withUnsafeBytes { Array($0) }
        }
        #expect(decoded == WorkedExample.seed)
    }

    /// First start creates a 0600 file; the next start loads the same identity from it.
    @Test func createThenLoad() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let first = try IdentityFile.loadOrCreate(in: dir)
        #expect(first.origin == .created)
        let path = dir.path(of: IdentityFile.defaultName)
        #expect(modeOf(path) == 0o600)
        #expect(readBytes(path)?.count == IdentityFile.length)
        #expect(readBytes(dir.path(of: ".identity.key.tmp")) == nil)
        let second = try IdentityFile.loadOrCreate(in: dir)
        #expect(second.origin == .loaded)
        #expect(second.keyPair.nodeID == first.keyPair.nodeID)
        #expect(second.keyPair.x25519Public == first.keyPair.x25519Public)
        let third = try IdentityFile.load(from: dir)
        #expect(third.nodeID == first.keyPair.nodeID)
    }

    /// The key pair can be moved out of the load result and used to sign (the daemon's usage).
    @Test func keyPairMovesOutAndSigns() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        _ = try IdentityFile.create(in: dir, seed: SecretBytes(copying: WorkedExample.seed))
        let loaded = try IdentityFile.loadOrCreate(in: dir)
        #expect(loaded.origin == .loaded)
        let keyPair = loaded.takeKeyPair()
        let signature = keyPair.sign([1, 2, 3])
        #expect(Ed25519.verify(signature: signature, of: [1, 2, 3], by: keyPair.nodeID))
        #expect(!Ed25519.verify(signature: signature, of: [1, 2, 4], by: keyPair.nodeID))
        #expect(keyPair.nodeID.hex == WorkedExample.publicKey)
    }

    /// Two fresh state directories get two different identities (the seed really is random).
    @Test func freshIdentitiesDiffer() throws {
        let a = TemporaryDirectory(), b = TemporaryDirectory()
        let ida = try IdentityFile.loadOrCreate(in: StateDirectory(path: a.sub("s"))).keyPair.nodeID
        let idb = try IdentityFile.loadOrCreate(in: StateDirectory(path: b.sub("s"))).keyPair.nodeID
        #expect(ida != idb)
    }

    /// A file written from a restored seed loads to the worked example's address.
    @Test func restoreFromSeed() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        _ = try IdentityFile.create(in: dir, seed: SecretBytes(copying: WorkedExample.seed))
        #expect(readBytes(dir.path(of: IdentityFile.defaultName)).map(hex) == WorkedExample.fileImage)
        #expect(try IdentityFile.load(from: dir).nodeID.meshAddress.description == WorkedExample.address)
    }

    /// Every truncation (0...59 bytes) is a "truncated" error and the file is never replaced.
    @Test func truncatedIsErrorNeverReplaced() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let path = dir.path(of: IdentityFile.defaultName)
        let good = unhex(WorkedExample.fileImage)
        for n in 0..<IdentityFile.length {
            writeBytes(path, Array(good.prefix(n)))
            #expect(throws: StateError.corruptKeyFile(path: path, defect: .truncated(size: n, expected: 60))) {
                _ = try IdentityFile.loadOrCreate(in: dir)
            }
            #expect(readBytes(path) == Array(good.prefix(n)))
        }
    }

    /// A flipped bit anywhere in the file is detected (magic, checksum or header) and nothing is rewritten.
    @Test func everyBitFlipIsDetected() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let path = dir.path(of: IdentityFile.defaultName)
        let good = unhex(WorkedExample.fileImage)
        for byte in 0..<IdentityFile.length {
            for bit in 0..<8 {
                var bad = good
                bad[byte] ^= UInt8(1 << bit)
                writeBytes(path, bad)
                let error = #expect(throws: StateError.self) { _ = try IdentityFile.loadOrCreate(in: dir) }
                if case .corruptKeyFile(let p, let defect)? = error {
                    #expect(p == path)
                    #expect(defect == (byte < 8 ? .badMagic : .checksumMismatch))
                } else {
                    Issue.record("byte \(byte) bit \(bit): \(String(describing: error))")
                }
                #expect(readBytes(path) == bad)
            }
        }
    }

    /// Trailing bytes are "too long", a future version with a valid checksum is "unsupported version".
    @Test func tooLongAndFutureVersion() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let path = dir.path(of: IdentityFile.defaultName)
        writeBytes(path, unhex(WorkedExample.fileImage) + [0])
        #expect(throws: StateError.corruptKeyFile(path: path, defect: .tooLong(size: 61, expected: 60))) {
            _ = try IdentityFile.load(from: dir)
        }
        var body = Array(unhex(WorkedExample.fileImage).prefix(44))
        body[9] = 2
        writeBytes(path, body + Sodium.blake2b(body, outputLength: 16))
        #expect(throws: StateError.corruptKeyFile(path: path, defect: .unsupportedVersion(2))) {
            _ = try IdentityFile.load(from: dir)
        }
        body[9] = 1; body[11] = 7
        writeBytes(path, body + Sodium.blake2b(body, outputLength: 16))
        #expect(throws: StateError.corruptKeyFile(path: path, defect: .badHeader)) {
            _ = try IdentityFile.load(from: dir)
        }
    }

    /// A key file readable by group or others is refused with `chmod 600` in the message, and left alone.
    @Test(arguments: [0o640, 0o604, 0o644, 0o660, 0o666] as [mode_t])
    func insecureKeyFileRefused(mode: mode_t) throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let path = dir.path(of: IdentityFile.defaultName)
        writeBytes(path, unhex(WorkedExample.fileImage), mode: mode)
        let error = #expect(throws: StateError.self) { _ = try IdentityFile.loadOrCreate(in: dir) }
        #expect(error == .insecureKeyFile(path: path, mode: UInt32(S_IFREG) | UInt32(mode)))
        #expect(error?.description.contains("chmod 600 \(path)") == true)
        #expect(modeOf(path) == UInt32(mode))
        #expect(readBytes(path) == unhex(WorkedExample.fileImage))
    }

    /// A key file owned by another user is refused (needs root to chown).
    @Test(.enabled(if: geteuid() == 0)) func foreignKeyFileRefused() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let path = dir.path(of: IdentityFile.defaultName)
        writeBytes(path, unhex(WorkedExample.fileImage))
        #expect(chown(path, 12345, 12345) == 0)
        #expect(throws: StateError.wrongOwner(path: path, owner: 12345, expected: 0)) {
            _ = try IdentityFile.loadOrCreate(in: dir)
        }
    }

    /// A symlink in place of the key file is not followed, and a directory there is not a key file.
    @Test func symlinkAndDirectoryRefused() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let path = dir.path(of: IdentityFile.defaultName)
        writeBytes(tmp.sub("elsewhere"), unhex(WorkedExample.fileImage))
        symlink(tmp.sub("elsewhere"), path)
        #expect(throws: StateError.notARegularFile(path: path)) { _ = try IdentityFile.loadOrCreate(in: dir) }
        unlink(path)
        mkdir(path, 0o700)
        #expect(throws: StateError.notARegularFile(path: path)) { _ = try IdentityFile.loadOrCreate(in: dir) }
    }

    /// `create` never overwrites an existing identity, even a damaged one.
    @Test func createRefusesToOverwrite() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let path = dir.path(of: IdentityFile.defaultName)
        writeBytes(path, [1, 2, 3])
        #expect(throws: StateError.system(operation: "link", path: path, errno: EEXIST)) {
            _ = try IdentityFile.create(in: dir)
        }
        #expect(readBytes(path) == [1, 2, 3])
    }

    /// A stale temp name left as a hard link to the key (crash between link and unlink) cannot be
    /// used to overwrite the key: `create` unlinks it instead of truncating it, then fails with EEXIST.
    @Test func staleTempHardLinkCannotReplaceKey() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        _ = try IdentityFile.create(in: dir, seed: SecretBytes(copying: WorkedExample.seed))
        let path = dir.path(of: IdentityFile.defaultName)
        #expect(link(path, dir.path(of: ".identity.key.tmp")) == 0)
        #expect(throws: StateError.system(operation: "link", path: path, errno: EEXIST)) {
            _ = try IdentityFile.create(in: dir)
        }
        #expect(readBytes(path).map(hex) == WorkedExample.fileImage)
        #expect(try IdentityFile.load(from: dir).nodeID.hex == WorkedExample.publicKey)
    }

    /// A missing file is an ENOENT error for `load` (only `loadOrCreate` creates).
    @Test func loadMissing() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        #expect(throws: StateError.system(operation: "open", path: dir.path(of: IdentityFile.defaultName), errno: ENOENT)) {
            _ = try IdentityFile.load(from: dir)
        }
    }

    /// The corruption message tells the operator both recoveries, including that deleting changes the address.
    @Test func corruptionMessageExplainsRecovery() {
        let text = StateError.corruptKeyFile(path: "/var/lib/filament/identity.key", defect: .checksumMismatch).description
        #expect(text.contains("/var/lib/filament/identity.key"))
        #expect(text.contains("NOT replaced"))
        #expect(text.contains("backup"))
        #expect(text.contains("NEW mesh address"))
    }
}
