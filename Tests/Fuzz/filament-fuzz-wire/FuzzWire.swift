import FilamentWire

// libFuzzer entry point for the routing packet decoder. Built only when FILAMENT_FUZZ is set (see
// Package.swift and docs/wire-format.md "Fuzzing"):
//
//   FILAMENT_FUZZ=1 swift build --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address \
//       -Xswiftc -parse-as-library --product filament-fuzz-wire
//   .build-fuzz/debug/filament-fuzz-wire Tests/Fuzz/corpus/wire -max_total_time=120
//
// Every input must decode or give a WireError; anything accepted must survive encode/decode
// unchanged. A trap, a sanitizer report or the final check failing is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let buffer = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    var report = DecodeReport()
    _ = try? RoutingPacket.decodePlaintextFrame(buffer, report: &report)
    _ = try? RoutingPacket.decodeInnerPayload(buffer, report: &report)
    guard let packet = try? RoutingPacket.decode(buffer, report: &report) else { return 0 }
    // Accepted: it must re-encode, and the re-encoding must decode to the same packet.
    guard let bytes = try? packet.encode(), let again = try? RoutingPacket.decode(bytes), again == packet,
          bytes.count == packet.encodedSize
    else { fatalError("re-encoding changed an accepted packet: \(packet)") }
    return 0
}
