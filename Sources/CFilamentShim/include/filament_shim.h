#ifndef FILAMENT_SHIM_H
#define FILAMENT_SHIM_H
// CFilamentShim exists for the few Linux calls Swift cannot make directly:
//  - the TUNSETIFF / SIOCGIFHWADDR ioctls (request numbers are function-like macros Swift cannot import);
//  - recvmmsg/sendmmsg over preallocated arrays of mmsghdr/iovec/sockaddr/cmsg buffers, and the
//    CMSG_* macros that build and parse IPV6_PKTINFO / IPV6_HOPLIMIT control messages;
//  - AF_PACKET binding (struct sockaddr_ll and struct packet_mreq are not in Swift's Glibc module);
//  - a few macros re-exported as `extern const` values.
// All symbols are prefixed `filament_`. Only FilamentLinux imports this module; no C type reaches
// public Swift API.

#include <stddef.h>
#include <stdint.h>
// Not part of Swift's Glibc module; included here so FilamentLinux sees them through this module.
#include <sys/epoll.h>
#include <sys/signalfd.h>

// MARK: TUN

/// Opens /dev/net/tun and attaches it to interface `name` (IFF_TUN | IFF_NO_PI), non-blocking,
/// close-on-exec. Returns the file descriptor, or -errno. `actual_name` (IFNAMSIZ bytes) receives
/// the kernel's name. With `offload`: IFF_VNET_HDR (a 10-byte virtio_net_hdr before every packet
/// read or written) and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO6).
int filament_tun_open(const char *name, char *actual_name, int offload);

// MARK: child processes (ChildProcess)

/// pipe2(fds, O_CLOEXEC). Returns 0 or -errno.
int filament_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addclosefrom_np on a `posix_spawn_file_actions_t *`: the child closes
/// every descriptor from `lowest` up. Returns 0 or an errno value.
int filament_spawn_actions_closefrom(void *actions, int lowest);

// MARK: constants Swift cannot import

extern const int filament_IFNAMSIZ;
extern const int filament_MSG_TRUNC;
extern const int filament_EPOLLIN;
extern const int filament_EPOLLERR;
extern const int filament_EPOLLHUP;
extern const int filament_EPOLLOUT;

// MARK: batches of messages for recvmmsg / sendmmsg

/// A preallocated set of `count` message slots, each with its own `buffer_size`-byte buffer, a
/// sockaddr_storage for the peer address and a control buffer. Allocated once; receiving and sending
/// reuse it, so no memory is allocated per packet. One batch is used by one thread.
typedef struct filament_batch filament_batch;

/// Nil when memory is exhausted or count/buffer_size is 0.
filament_batch *filament_batch_create(unsigned count, unsigned buffer_size);
void filament_batch_destroy(filament_batch *batch);
unsigned filament_batch_count(const filament_batch *batch);
unsigned filament_batch_buffer_size(const filament_batch *batch);
/// The buffer of slot `i` (buffer_size bytes).
uint8_t *filament_batch_buffer(filament_batch *batch, unsigned i);
/// The received length of slot `i` after filament_batch_recv (the truncated length if the
/// datagram was larger than the buffer).
size_t filament_batch_length(const filament_batch *batch, unsigned i);
/// 1 when slot `i` was truncated (MSG_TRUNC).
int filament_batch_truncated(const filament_batch *batch, unsigned i);

/// recvmmsg(fd, ..., min(max, count), MSG_DONTWAIT) into slots 0..<n. Returns n >= 0 or -errno.
int filament_batch_recv(int fd, filament_batch *batch, unsigned max);
/// sendmmsg(fd, slots start..<start+n, MSG_DONTWAIT). Returns messages sent or -errno.
int filament_batch_send(int fd, filament_batch *batch, unsigned start, unsigned n);

/// Moves prepared outgoing slot `from` to slot `to` (buffer bytes, address, control message, length),
/// so a partly sent queue can be compacted to the front. `from` and `to` must differ.
void filament_batch_move(filament_batch *batch, unsigned from, unsigned to);

/// What one received IPv6 UDP datagram carried besides its payload.
typedef struct filament_udp6_info {
    uint8_t source[16];
    uint8_t destination[16];   // from IPV6_PKTINFO (zero if absent)
    uint32_t source_scope;     // sin6_scope_id of the source
    uint32_t ifindex;          // arrival interface from IPV6_PKTINFO (0 if absent)
    int32_t hop_limit;         // from IPV6_HOPLIMIT (-1 if absent)
    uint16_t source_port;      // host order
    uint16_t has_pktinfo;
    uint32_t segment_size;     // from UDP_GRO: the payload holds datagrams of this size (0 if absent)
} filament_udp6_info;

/// Fills `out` for slot `i` from its sockaddr_in6 and control messages. Returns 0, or -1 if the
/// slot's address is not AF_INET6.
int filament_batch_udp6_info(const filament_batch *batch, unsigned i, filament_udp6_info *out);
/// Prepares slot `i` for sending `length` bytes (already in its buffer) to [dst%scope]:port.
/// When `ifindex` is non-zero an IPV6_PKTINFO control message pins the outgoing interface.
void filament_batch_set_udp6(filament_batch *batch, unsigned i, const uint8_t dst[16], uint32_t scope,
                             uint16_t port, uint32_t ifindex, size_t length);

/// UDP generic receive offload (setsockopt UDP_GRO): the kernel may hand several datagrams of one
/// sender, all `segment_size` bytes but a shorter last one, to one receive (see
/// filament_udp6_info.segment_size). Returns 0 or -errno.
int filament_udp_enable_gro(int fd);

/// Most datagrams sent as one UDP_SEGMENT message (the kernel allows 64, newer ones 128).
#define FILAMENT_GSO_MAX_SEGMENTS 64

/// Like filament_batch_send, but runs of consecutive slots to the same address and port whose
/// datagrams have one size (at most `max_segment` bytes; the last of a run may be shorter) go as
/// one message with a UDP_SEGMENT control message: the kernel builds one large packet and cuts it
/// into datagrams as late as possible (or never, when the receiver uses UDP_GRO). Each datagram on
/// the wire is the same as without it. Returns the number of slots sent, or -errno for the first
/// message; `*first_run` is the number of slots in that first message, `*segmented` the number of
/// messages sent that carried more than one datagram.
int filament_batch_send_gso(int fd, filament_batch *batch, unsigned start, unsigned n, unsigned max_segment,
                            unsigned *first_run, unsigned *segmented);

/// What one received AF_PACKET (SOCK_DGRAM) frame carried besides its payload.
typedef struct filament_ll_info {
    uint8_t source[8];         // first 6 bytes: source MAC
    uint32_t ifindex;
    uint16_t protocol;         // EtherType, host order
    uint8_t packet_type;       // PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST...
    uint8_t address_length;
} filament_ll_info;

int filament_batch_ll_info(const filament_batch *batch, unsigned i, filament_ll_info *out);
/// Prepares slot `i` for sending `length` bytes to MAC `dst` with `protocol` (host order) on `ifindex`.
void filament_batch_set_ll(filament_batch *batch, unsigned i, const uint8_t dst[6], uint32_t ifindex,
                           uint16_t protocol, size_t length);

// MARK: AF_PACKET

/// socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(protocol)) bound to `ifindex`.
/// Returns the fd or -errno.
int filament_packet_open(uint32_t ifindex, uint16_t protocol);
/// PACKET_ADD_MEMBERSHIP for multicast MAC `mac` on `ifindex`. Returns 0 or -errno.
int filament_packet_join(int fd, uint32_t ifindex, const uint8_t mac[6]);
/// The hardware address of interface `name` (SIOCGIFHWADDR). Returns 0 or -errno.
int filament_interface_mac(const char *name, uint8_t out[6]);

// MARK: network namespaces

/// Moves the calling thread into the network namespace at `path` (e.g. /run/netns/NAME).
/// Returns 0 or -errno. Sockets created afterwards by this thread live in that namespace.
int filament_enter_netns(const char *path);

// MARK: allocator

/// Sets glibc's mmap threshold to `bytes` (which also turns its dynamic adjustment off): allocations of
/// at least that size get their own mapping. Returns mallopt's result (1 on success).
int filament_malloc_fixed_mmap_threshold(int bytes);

#endif
