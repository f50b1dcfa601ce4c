import Glibc

/// Whether a network interface is a radio (decision 0815: wireless links get ETX-style costs, everything
/// else a fixed wired cost). Asked the way babeld asks: the wireless-extensions `SIOCGIWNAME` request,
/// which every cfg80211 driver answers in the caller's network namespace; then sysfs (`wireless`,
/// `phy80211`) for kernels built without wireless extensions. veth, Ethernet and bridges are wired.
public enum WirelessProbe {
    static let siocgiwname: UInt = 0x8B01

    public static func isWireless(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count < 16, !bytes.contains(0x2F), name != ".", name != ".." else { return false }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd >= 0 {
            defer { close(fd) }
            // struct iwreq: the interface name (16 bytes) and a 16-byte union the answer lands in.
            var request = [UInt8](repeating: 0, count: 32)
            request.replaceSubrange(0..<bytes.count, with: bytes)
            let rc = request.withUnsafeMutableBytes { ioctl(fd, siocgiwname, $0.baseAddress!) }
            if rc == 0 { return true }
        }
        return access("/sys/class/net/\(name)/wireless", F_OK) == 0 || access("/sys/class/net/\(name)/phy80211", F_OK) == 0
    }
}
