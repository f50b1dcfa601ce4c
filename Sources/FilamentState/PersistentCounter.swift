import FilamentCrypto

/// A 64-bit counter that never goes backwards, across restarts and crashes: the routing seqno (its
/// low 16 bits), the link layer's handshake initiation counter, gateway advertisement seqnos.
///
/// The file does not hold the counter; it holds a *reservation*: an upper bound such that every value
/// ever handed out is below it. The file is rewritten only when the counter reaches the bound, then to
/// `value + blockSize`, so flash sees one write per `blockSize` increments. On open the counter starts
/// at the stored bound (past everything that could have been handed out before a crash or power
/// loss) and reserves the next block before handing out anything.
///
/// Every write is crash-safe (`StateDirectory.writeAtomically`). If a write fails (full disk,
/// read-only file system) the error is thrown, the old file stays as it was, and the counter refuses
/// to move beyond what is already persisted; a later call tries the write again.
///
/// Not thread-safe: one owner (the daemon's event loop) calls it.
public final class PersistentCounter {
    /// The file names the daemon uses for its counters, so every module agrees on them.
    public enum Name {
        /// The routing source seqno (its low 16 bits go on the wire).
        public static let routingSeqno = "routing-seqno"
        /// The link layer's handshake initiation counter.
        public static let linkInitiation = "link-initiation"
        /// The seqno of this node's signed gateway advertisements.
        public static let gatewayAdvert = "gateway-advert-seqno"
    }

    /// The default reservation block (docs/decisions/0202-counter-block-size.md).
    public static let defaultBlockSize: UInt64 = 1024

    /// The file name inside the state directory.
    public let name: String
    /// How far ahead each write reserves.
    public let blockSize: UInt64
    /// The current value: handed out already (by `init`, `next` or `advance`), never handed out by a
    /// previous run. Always below `persistedBound`.
    public private(set) var current: UInt64
    /// The bound stored in the file: no value at or above it has been handed out.
    public private(set) var persistedBound: UInt64
    /// Successful file writes since this counter was opened (flash wear; also what tests count).
    public private(set) var writeCount: Int = 0
    /// Full path of the counter file, for messages.
    public var path: String { directory.path(of: name) }

    let directory: StateDirectory
    /// Test hook: make a step of the next writes fail.
    var faultHook: WriteFaultHook?

    /// Opens (or creates) the counter `name` in `directory`. A missing file starts at 0; a damaged
    /// file throws `StateError.corruptCounterFile` and is left alone. The first block is reserved
    /// (one write) before this returns, so a write error is thrown here.
    public convenience init(directory: StateDirectory, name: String,
                            blockSize: UInt64 = PersistentCounter.defaultBlockSize) throws(StateError) {
        try self.init(directory: directory, name: name, blockSize: blockSize, faultHook: nil)
    }

    init(directory: StateDirectory, name: String, blockSize: UInt64, faultHook: WriteFaultHook?) throws(StateError) {
        guard blockSize >= 1 else { throw .invalidArgument("counter block size must be at least 1") }
        try StateDirectory.validate(name: name)
        self.directory = directory
        self.name = name
        self.blockSize = blockSize
        self.faultHook = faultHook
        let stored = try Self.readBound(in: directory, name: name) ?? 0
        current = stored
        persistedBound = stored
        try reserve(through: stored)
    }

    /// Increments and returns the new value.
    @discardableResult
    public func next() throws(StateError) -> UInt64 {
        guard current < UInt64.max else { throw .counterExhausted(path: path) }
        let candidate = current + 1
        try reserve(through: candidate)
        current = candidate
        return candidate
    }

    /// Moves the counter up to `value` (for example when a neighbour reports a newer seqno of ours
    /// than we have). Values at or below `current` change nothing: the counter never goes back.
    public func advance(to value: UInt64) throws(StateError) {
        guard value > current else { return }
        try reserve(through: value)
        current = value
    }

    /// Makes sure `value` is below the persisted bound, writing `value + blockSize` if it is not.
    private func reserve(through value: UInt64) throws(StateError) {
        guard value >= persistedBound else { return }
        let (bound, overflow) = value.addingReportingOverflow(blockSize)
        guard !overflow else { throw .counterExhausted(path: path) }
        try Self.write(bound: bound, in: directory, name: name, fault: faultHook)
        persistedBound = bound
        writeCount += 1
    }

    // MARK: file format

    /// Total file length.
    public static let length = 36
    /// The format version.
    public static let version: UInt16 = 1
    /// `FLMT-CTR`.
    public static let magic: [UInt8] = Array("FLMT-CTR".utf8)
    static let bodyLength = 20
    static let checksumLength = 16

    /// The file image for `bound`. Layout (big-endian): magic `FLMT-CTR` (8), version 1 (2),
    /// reserved 0 (2), bound (8), BLAKE2b-128 of the first 20 bytes (16).
    public static func encode(bound: UInt64) -> [UInt8] {
        var body = magic
        body += [UInt8(version >> 8), UInt8(version & 0xFF), 0, 0]
        for i in 0..<8 { body.append(UInt8(truncatingIfNeeded: bound >> UInt64(56 - 8 * i))) }
        return body + blake2b128(body)
    }

    /// The bound in a file image; `path` is only used in errors.
    public static func decode(_ image: some Collection<UInt8>, path: String) throws(StateError) -> UInt64 {
        let bytes = Array(image)
        guard bytes.count >= length else {
            throw .corruptCounterFile(path: path, defect: .truncated(size: bytes.count, expected: length))
        }
        guard bytes.count == length else {
            throw .corruptCounterFile(path: path, defect: .tooLong(size: bytes.count, expected: length))
        }
        guard bytes[0..<8].elementsEqual(magic) else { throw .corruptCounterFile(path: path, defect: .badMagic) }
        guard blake2b128(Array(bytes[0..<bodyLength])) == Array(bytes[bodyLength..<length]) else {
            throw .corruptCounterFile(path: path, defect: .checksumMismatch)
        }
        let v = UInt16(bytes[8]) << 8 | UInt16(bytes[9])
        guard v == version else { throw .corruptCounterFile(path: path, defect: .unsupportedVersion(v)) }
        guard bytes[10] == 0, bytes[11] == 0 else { throw .corruptCounterFile(path: path, defect: .badHeader) }
        return bytes[12..<20].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// The bound stored in counter `name`, or nil if there is no such file. Throws for a damaged,
    /// foreign-owned or group/world-writable file.
    public static func readBound(in directory: StateDirectory, name: String) throws(StateError) -> UInt64? {
        guard let contents = try directory.readFile(named: name, limit: length) else { return nil }
        let full = directory.path(of: name)
        let uid = currentUID()
        guard contents.owner == uid else { throw .wrongOwner(path: full, owner: contents.owner, expected: uid) }
        guard contents.mode & 0o022 == 0 else { throw .insecureFile(path: full, mode: contents.mode) }
        let count = contents.count
        let image = contents.buffer.withUnsafeBytes { Array($0.prefix(count)) }
        return try decode(image, path: full)
    }

    /// Operator recovery: writes `bound` into counter `name`, replacing whatever is there (even a
    /// damaged file). Choose a bound above anything the node may have used (docs/identity.md). Not
    /// for use while a daemon holds the counter open.
    public static func overwrite(in directory: StateDirectory, name: String, bound: UInt64) throws(StateError) {
        try write(bound: bound, in: directory, name: name, fault: nil)
    }

    private static func write(bound: UInt64, in directory: StateDirectory, name: String,
                              fault: WriteFaultHook?) throws(StateError) {
        let image = encode(bound: bound)
        // Array.withUnsafeBytes only rethrows untyped errors: carry ours out by hand.
        let failure = image.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> StateError? in
            do throws(StateError) {
                try directory.writeAtomically(named: name, bytes: raw, replace: true, fault: fault)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    private static func blake2b128(_ body: [UInt8]) -> [UInt8] {
        Sodium.blake2b(body, outputLength: checksumLength)
    }
}
