import CSodium

/// Secret key material that owns its bytes, exposes them only inside `withUnsafeBytes`, and wipes
/// them with `sodium_memzero` when it dies. `~Copyable`, so an accidental copy is a compile error.
public struct SecretBytes: ~Copyable {
    private let pointer: UnsafeMutableRawBufferPointer

    /// Takes a copy of `bytes` (the caller should wipe its own copy where it can).
    public init(copying bytes: some Collection<UInt8>) {
        Sodium.initialise()
        pointer = .allocate(byteCount: max(bytes.count, 1), alignment: 16)
        _ = pointer.initializeMemory(as: UInt8.self, from: bytes)
        count = bytes.count
    }

    /// `count` fresh random bytes from libsodium.
    public init(randomCount count: Int) {
        Sodium.initialise()
        pointer = .allocate(byteCount: max(count, 1), alignment: 16)
        randombytes_buf(pointer.baseAddress!, count)
        self.count = count
    }

    /// `count` zero bytes, to be filled through `withUnsafeMutableBytes`.
    public init(zeroedCount count: Int) {
        pointer = .allocate(byteCount: max(count, 1), alignment: 16)
        pointer.initializeMemory(as: UInt8.self, repeating: 0)
        self.count = count
    }

    public let count: Int

    public func withUnsafeBytes<R: ~Copyable, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(rebasing: pointer[0..<count]))
    }

    public mutating func withUnsafeMutableBytes<R: ~Copyable, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(rebasing: pointer[0..<count]))
    }

    /// Constant-time equality (`sodium_memcmp`).
    public func constantTimeEquals(_ other: borrowing SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in other.withUnsafeBytes { b in sodium_memcmp(a.baseAddress!, b.baseAddress!, count) == 0 } }
    }

    deinit {
        sodium_memzero(pointer.baseAddress!, pointer.count)
        pointer.deallocate()
    }
}

/// Constant-time comparison of two byte strings of equal length (for MACs and tags).
/// Different lengths compare unequal (the length itself is not secret).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in sodium_memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } }
}
