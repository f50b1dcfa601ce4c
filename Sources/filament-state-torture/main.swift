// filament-state-torture: the writer half of FilamentStateTests' crash tests. It runs until it is
// killed with SIGKILL or its time limit passes.
//
// usage: filament-state-torture counter <state-dir> <counter-name> <block-size> <max-seconds>
//   Opens a PersistentCounter and increments it as fast as it can, writing every value it has
//   handed out to stdout (one decimal line each, written with write(2) after next() returned).
// usage: filament-state-torture identity <parent-dir> <max-seconds>
//   Creates fresh state directories <parent-dir>/0, /1, ... and an identity in each, writing
//   "<index> <NodeID hex>" to stdout after each identity file is complete.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FilamentState

func fail(_ message: String) -> Never {
    let line = Array(("filament-state-torture: " + message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func emit(_ text: String) {
    let line = Array((text + "\n").utf8)
    var off = 0
    while off < line.count {
        let n = line.withUnsafeBytes { write(1, $0.baseAddress! + off, $0.count - off) }
        if n < 0 { if errno == EINTR { continue }; fail("write(stdout): errno \(errno)") }
        off += n
    }
}

func deadline(_ text: String) -> ContinuousClock.Instant {
    guard let seconds = Double(text), seconds > 0, seconds <= 600 else { fail("max-seconds must be in (0, 600]") }
    return ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
}

let args = CommandLine.arguments
do {
    switch (args.count, args.count > 1 ? args[1] : "") {
    case (6, "counter"):
        guard let block = UInt64(args[4]) else { fail("bad block size") }
        let end = deadline(args[5])
        let directory = try StateDirectory(path: args[2])
        try directory.lock()
        let counter = try PersistentCounter(directory: directory, name: args[3], blockSize: block)
        emit(String(counter.current))
        // Bounded by the deadline; checked every 256 values to keep the loop cheap.
        var i: UInt64 = 0
        while true {
            emit(String(try counter.next()))
            i &+= 1
            if i & 255 == 0 && ContinuousClock.now >= end { break }
        }
    case (4, "identity"):
        let end = deadline(args[3])
        // Bounded by the deadline and by 100,000 directories.
        for index in 0..<100_000 {
            if ContinuousClock.now >= end { break }
            let directory = try StateDirectory(path: args[2] + "/" + String(index))
            let loaded = try IdentityFile.loadOrCreate(in: directory)
            emit("\(index) \(loaded.keyPair.nodeID.hex)")
        }
    default:
        fail("usage: filament-state-torture counter <state-dir> <counter-name> <block-size> <max-seconds> | identity <parent-dir> <max-seconds>")
    }
} catch {
    fail("\(error)")
}
