// filament-state-torture: the writer half of FilamentStateTests' crash test. It opens a
// PersistentCounter and increments it as fast as it can, writing every value it has handed out to
// stdout (one decimal line each, written with write(2) after next() returned), until it is killed
// with SIGKILL or its time limit passes.
//
// usage: filament-state-torture <state-dir> <counter-name> <block-size> <max-seconds>
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

func emit(_ value: UInt64) {
    let line = Array((String(value) + "\n").utf8)
    var off = 0
    while off < line.count {
        let n = line.withUnsafeBytes { write(1, $0.baseAddress! + off, $0.count - off) }
        if n < 0 { if errno == EINTR { continue }; fail("write(stdout): errno \(errno)") }
        off += n
    }
}

let args = CommandLine.arguments
guard args.count == 5, let block = UInt64(args[3]), let seconds = Double(args[4]), seconds > 0, seconds <= 600 else {
    fail("usage: filament-state-torture <state-dir> <counter-name> <block-size> <max-seconds 0<s<=600>")
}
do {
    let directory = try StateDirectory(path: args[1])
    try directory.lock()
    let counter = try PersistentCounter(directory: directory, name: args[2], blockSize: block)
    emit(counter.current)
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
    // Bounded by the deadline; checked every 256 values to keep the loop cheap.
    var i: UInt64 = 0
    while true {
        emit(try counter.next())
        i &+= 1
        if i & 255 == 0 && clock.now >= deadline { break }
    }
} catch {
    fail("\(error)")
}
