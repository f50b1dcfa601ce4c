/// The type byte of each TLV in a routing packet. Numbers follow RFC 8966 where Babel has the same
/// message (so a Babel reader finds them familiar); the layouts are Filament's own
/// (docs/wire-format.md). Filament-only messages start at 0x20. Any other value is unknown: the
/// decoder skips it and counts it in `DecodeReport.unknownTLVs`.
///
/// Adding a message: give it a number here, a case in `Message`, and one arm in each switch of
/// `Message+Codec.swift` (size, encode, decode).
public enum TLVType: UInt8, Hashable, Sendable, CaseIterable {
    /// One byte of padding, no length byte.
    case pad1 = 0x00
    /// `length` bytes of padding (contents ignored; senders write zeros).
    case padN = 0x01
    case hello = 0x04
    case ihu = 0x05
    /// Sets the router id for the Updates that follow it in the same packet (compression).
    case routerID = 0x06
    case update = 0x08
    case routeRequest = 0x09
    case seqnoRequest = 0x0A
    case digest = 0x20
    case gatewayAdvert = 0x21
    case probe = 0x22
}

/// How a prefix's address is written (Babel's "AE"): the encoding fixes the bytes every prefix of
/// that kind shares, so only the significant bytes travel.
public enum AddressEncoding: UInt8, Hashable, Sendable, CaseIterable {
    /// No prefix at all (a RouteRequest for the whole table). Prefix length must be 0.
    case wildcard = 0
    /// An IPv4 prefix (IPv4-mapped `::ffff:0:0/96` implied); the length byte counts IPv4 bits, 0...32.
    case ipv4 = 1
    /// Any IPv6 prefix; the length byte counts bits, 0...128.
    case ipv6 = 2
    /// A prefix inside the mesh prefix `fd66:696c:616d::/48` (implied); the length byte counts all
    /// 128-bit-form bits, 48...128, and only bytes after the first 6 travel (a /128 costs 10 bytes).
    case mesh = 3
}
