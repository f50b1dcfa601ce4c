/// How a driver names the sender of a datagram (daemon: link-local address + interface; simulator:
/// a virtual link end). The link layer treats it as opaque except for `cookieBytes`.
public protocol LinkPeerAddress: Hashable, Sendable {
    /// Bytes that identify this address, the same every time for the same address. Cookies are a
    /// keyed hash of them, so a cookie only works from the address it was issued to.
    var cookieBytes: [UInt8] { get }
}
