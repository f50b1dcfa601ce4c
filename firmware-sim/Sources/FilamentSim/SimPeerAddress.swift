import FilamentCrypto

/// A virtual bulb's link address as the link layer sees it: its node index in the run.
public struct SimPeerAddress: LinkPeerAddress {
    public var index: Int32
    public init(_ index: Int32) { self.index = index }
    public var cookieBytes: [UInt8] { withUnsafeBytes(of: index.littleEndian) { Array($0) } }
}
