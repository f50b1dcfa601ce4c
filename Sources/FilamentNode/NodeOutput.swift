import FilamentCore
import FilamentEngine

/// What the driver of a `FilamentNode` must do, in order. Datagrams are complete UDP payloads
/// (frame type byte first); IP packets start at their IPv6 header.
public enum NodeOutput: Hashable, Sendable {
    /// Send `datagram` to one neighbour.
    case send([UInt8], to: NodePeer)
    /// Send `datagram` to the routing multicast group on `interface` (hellos, in the clear).
    case sendMulticast([UInt8], interface: InterfaceID)
    /// Hand `packet` to the local IP stack (write it to the TUN device).
    case deliver([UInt8])
    /// The engine selected a route (the daemon forwards from the engine's table; a driver that
    /// mirrors routes into a kernel table installs it, replacing in place).
    case installRoute(ForwardingEntry)
    /// The engine has no route for `prefix` any more.
    case removeRoute(Prefix)
    /// Store the routing seqno counter durably (`PersistentCounter.Name.routingSeqno`).
    case persistSeqnoCounter(UInt64)
    /// Store the link layer's initiation counter durably (`PersistentCounter.Name.linkInitiation`)
    /// before executing the outputs that follow it.
    case persistInitiationCounter(UInt64)
    /// A live change for monitors and logs.
    case notify(EngineNotification)
}
