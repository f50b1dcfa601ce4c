import FilamentCore

/// How one prefix goes on the wire: its address encoding, its length byte and which address bytes
/// travel (`skip` leading bytes are implied by the encoding, the next `count` are written).
struct PrefixCodec {
    var ae: AddressEncoding
    var lengthByte: UInt8
    var skip: Int
    var count: Int

    /// The canonical (shortest) encoding of `prefix`: IPv4 prefixes as AE 1, prefixes inside the mesh
    /// prefix as AE 3, everything else as AE 2.
    init(_ prefix: Prefix) {
        let length = Int(prefix.length)
        if prefix.isIPv4 {
            self.init(ae: .ipv4, lengthByte: UInt8(length - 96), skip: 12, count: (length - 96 + 7) / 8)
        } else if length >= 48 && MeshPrefix.prefix.contains(prefix.address) {
            self.init(ae: .mesh, lengthByte: UInt8(length), skip: 6, count: (length - 48 + 7) / 8)
        } else {
            self.init(ae: .ipv6, lengthByte: UInt8(length), skip: 0, count: (length + 7) / 8)
        }
    }

    init(ae: AddressEncoding, lengthByte: UInt8, skip: Int, count: Int) {
        self.ae = ae; self.lengthByte = lengthByte; self.skip = skip; self.count = count
    }

    /// Appends the significant address bytes of `prefix` (not the AE or length byte).
    func appendAddress(of prefix: Prefix, to out: inout [UInt8]) {
        for i in skip..<(skip + count) { out.append(prefix.address.byte(i)) }
    }

    /// Reads the significant bytes of a prefix whose AE and length byte were already read, checks the
    /// length range and that no bit past the length is set. `type` names the TLV for errors.
    /// Never called with `.wildcard`.
    static func readPrefix(ae aeByte: UInt8, lengthByte: UInt8, type: TLVType,
                           from reader: inout WireReader) throws(WireError) -> Prefix {
        let plen = Int(lengthByte)
        let base: IPv6Address, skip: Int, significant: Int, total: Int
        switch AddressEncoding(rawValue: aeByte) {
        case .ipv4?:
            guard plen <= 32 else { throw .badPrefixLength(ae: aeByte, length: lengthByte) }
            base = IPv6Address(ipv4: 0, 0, 0, 0); skip = 12; significant = plen; total = 96 + plen
        case .ipv6?:
            guard plen <= 128 else { throw .badPrefixLength(ae: aeByte, length: lengthByte) }
            base = .unspecified; skip = 0; significant = plen; total = plen
        case .mesh?:
            guard (48...128).contains(plen) else { throw .badPrefixLength(ae: aeByte, length: lengthByte) }
            base = MeshPrefix.prefix.address; skip = 6; significant = plen - 48; total = plen
        case .wildcard?, nil:
            throw .badAddressEncoding(type: type.rawValue, ae: aeByte)
        }
        let count = (significant + 7) / 8
        let (high, low, last) = try reader.withBytes(count) { bytes -> (UInt64, UInt64, UInt8) in
            var high = base.high, low = base.low
            for (i, b) in bytes.enumerated() {
                let position = skip + i
                if position < 8 {
                    high |= UInt64(b) << UInt64(56 - 8 * position)
                } else {
                    low |= UInt64(b) << UInt64(56 - 8 * (position - 8))
                }
            }
            return (high, low, bytes.last ?? 0)
        }
        let usedBits = significant % 8
        if usedBits != 0 && last & (0xFF >> UInt8(usedBits)) != 0 { throw .prefixHostBitsSet }
        guard let prefix = Prefix(address: IPv6Address(high: high, low: low), length: total) else {
            throw .badPrefixLength(ae: aeByte, length: lengthByte)
        }
        return prefix
    }
}
