import CFuzzDriver
import FilamentWire

// libFuzzer harness for the routing packet decoder. Built only when FILAMENT_FUZZ is set (see
// Package.swift and docs/wire-format.md "Fuzzing"):
//
//   FILAMENT_FUZZ=1 swift build --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address \
//       --product filament-fuzz-wire
//   mkdir -p .build-fuzz/work-corpus
//   .build-fuzz/debug/filament-fuzz-wire .build-fuzz/work-corpus Tests/Fuzz/corpus/wire -max_total_time=120
//
// Every input must decode or give a WireError; anything accepted must re-encode to a packet that decodes
// to the same value. A trap, a sanitizer report or the final check failing is a finding.

/// One fuzz input: decode it as a bare packet, a plaintext frame and an inner payload. Exported under
/// libFuzzer's name too, because -sanitize=fuzzer links libFuzzer's own `main`, which references it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let buffer = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    var report = DecodeReport()
    _ = try? RoutingPacket.decodePlaintextFrame(buffer, report: &report)
    _ = try? RoutingPacket.decodeInnerPayload(buffer, report: &report)
    guard let packet = try? RoutingPacket.decode(buffer, report: &report) else { return 0 }
    guard let bytes = try? packet.encode(), bytes.count == packet.encodedSize,
          let again = try? RoutingPacket.decode(bytes), again == packet
    else { fatalError("re-encoding changed an accepted packet: \(packet)") }
    return 0
}

// SwiftPM makes this file's top level the program's `main`; hand over to libFuzzer's driver.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) }
if status != 0 { fatalError("libFuzzer driver returned \(status)") }
