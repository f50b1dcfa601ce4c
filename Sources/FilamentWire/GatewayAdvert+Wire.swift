import FilamentCore

// The GatewayAdvert TLV value and the exact bytes a gateway signs (docs/wire-format.md
// "GatewayAdvert" and "What a gateway signs").

extension GatewayAdvert {
    /// Longest name, in UTF-8 bytes.
    public static let maxNameBytes = 32
    /// Length of the Ed25519 signature.
    public static let signatureBytes = 64
    /// Domain separation for the signature: these 27 ASCII bytes come first in `signedBytes`, so a
    /// signature over an advert can never be mistaken for a signature over anything else a node signs.
    public static let signingDomain: [UInt8] = Array("filament/gateway-advert/v1\u{0}".utf8)

    /// Value bytes besides the name: key 32, seqno 4, flags 1, down 4, up 4, load 1, lifetime 2,
    /// name length 1, signature 64.
    static let fixedValueBytes = 113

    /// The exact bytes the gateway signs and a receiver verifies: `signingDomain` followed by every
    /// field of the TLV value except the signature, in wire order (gateway key, seqno, flags, bandwidth
    /// down, bandwidth up, load, lifetime, name length, name). Unknown flag bits are covered as sent.
    public var signedBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(GatewayAdvert.signingDomain.count + GatewayAdvert.fixedValueBytes
                            - GatewayAdvert.signatureBytes + name.utf8.count)
        out.append(contentsOf: GatewayAdvert.signingDomain)
        appendSignedFields(to: &out)
        return out
    }

    /// Appends the value fields before the signature. The name length byte is truncated if the name is
    /// too long; `validateForEncoding` rejects such adverts before anything reaches the wire.
    func appendSignedFields(to out: inout [UInt8]) {
        out.append((gateway.w0, gateway.w1, gateway.w2, gateway.w3))
        out.appendBE(seqno)
        out.append(flags.rawValue)
        out.appendBE(bandwidthDownKbps)
        out.appendBE(bandwidthUpKbps)
        out.append(load)
        out.appendBE(lifetimeSeconds)
        out.append(UInt8(truncatingIfNeeded: name.utf8.count))
        out.append(contentsOf: name.utf8)
    }

    /// Throws when the advert cannot be encoded: a name past `maxNameBytes` or a signature that is not
    /// `signatureBytes` long.
    func validateForEncoding() throws(WireError) {
        let n = name.utf8.count
        guard n <= GatewayAdvert.maxNameBytes else { throw .nameTooLong(n) }
        guard signature.count == GatewayAdvert.signatureBytes else { throw .badSignatureLength(signature.count) }
    }

    /// Reads a GatewayAdvert TLV value; the name must be at most `maxNameBytes` of valid UTF-8.
    static func decodeValue(from reader: inout WireReader) throws(WireError) -> GatewayAdvert {
        let gateway = NodeID(w0: try reader.u64(), w1: try reader.u64(), w2: try reader.u64(), w3: try reader.u64())
        let seqno = try reader.u32()
        let flags = Flags(rawValue: try reader.u8())
        let down = try reader.u32()
        let up = try reader.u32()
        let load = try reader.u8()
        let lifetime = try reader.u16()
        let nameLength = Int(try reader.u8())
        guard nameLength <= maxNameBytes else { throw .nameTooLong(nameLength) }
        let decoded: String? = try reader.withBytes(nameLength) { String(validating: $0, as: UTF8.self) }
        guard let name = decoded else { throw .nameNotUTF8 }
        let signature = try reader.bytes(signatureBytes)
        return GatewayAdvert(gateway: gateway, seqno: seqno, flags: flags, bandwidthDownKbps: down,
                             bandwidthUpKbps: up, load: load, lifetimeSeconds: lifetime, name: name,
                             signature: signature)
    }
}
