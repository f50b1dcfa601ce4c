// Preallocated recvmmsg/sendmmsg batches and control-message (cmsg) building/parsing.
// Exists because CMSG_FIRSTHDR/CMSG_NXTHDR/CMSG_DATA are macros Swift cannot import, and because
// one malloc at setup time (instead of per packet) is the point of batching.
#define _GNU_SOURCE
#include "filament_shim.h"
#include <errno.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/udp.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

const int filament_IFNAMSIZ = IFNAMSIZ;
const int filament_MSG_TRUNC = MSG_TRUNC;
const int filament_EPOLLIN = EPOLLIN;
const int filament_EPOLLERR = EPOLLERR;
const int filament_EPOLLHUP = EPOLLHUP;
const int filament_EPOLLOUT = EPOLLOUT;

// Mirrored layouts Swift reads field by field: keep them fixed.
_Static_assert(sizeof(filament_udp6_info) == 52, "filament_udp6_info layout changed");
_Static_assert(sizeof(filament_ll_info) == 16, "filament_ll_info layout changed");
_Static_assert(sizeof(struct in6_pktinfo) == 20, "in6_pktinfo is 16-byte address + ifindex");
_Static_assert(sizeof(struct sockaddr_in6) <= sizeof(struct sockaddr_storage), "sockaddr_in6 fits");
_Static_assert(sizeof(struct sockaddr_ll) <= sizeof(struct sockaddr_storage), "sockaddr_ll fits");

// Room for IPV6_PKTINFO + IPV6_HOPLIMIT + UDP_GRO (+ slack for a fourth message the kernel may add).
#define FILAMENT_CONTROL_SIZE (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) * 3)
// One UDP_SEGMENT control message (a uint16_t segment size).
#define FILAMENT_GSO_CONTROL_SIZE CMSG_SPACE(sizeof(uint16_t))

struct filament_batch {
    unsigned count;
    unsigned buffer_size;
    struct mmsghdr *messages;
    struct iovec *iovecs;
    struct sockaddr_storage *names;
    uint8_t *control;   // count * FILAMENT_CONTROL_SIZE, aligned by malloc
    uint8_t *buffers;   // count * buffer_size
    // UDP segmentation offload (filament_batch_send_gso): one message per run of slots, allocated
    // on first use.
    struct mmsghdr *gso_messages;
    uint8_t *gso_control;     // count * FILAMENT_GSO_CONTROL_SIZE
    unsigned *gso_runs;       // slots in each message
};

filament_batch *filament_batch_create(unsigned count, unsigned buffer_size) {
    if (count == 0 || buffer_size == 0) return NULL;
    filament_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->count = count;
    b->buffer_size = buffer_size;
    b->messages = calloc(count, sizeof *b->messages);
    b->iovecs = calloc(count, sizeof *b->iovecs);
    b->names = calloc(count, sizeof *b->names);
    b->control = calloc(count, FILAMENT_CONTROL_SIZE);
    b->buffers = calloc(count, buffer_size);
    if (!b->messages || !b->iovecs || !b->names || !b->control || !b->buffers) {
        filament_batch_destroy(b);
        return NULL;
    }
    for (unsigned i = 0; i < count; i++) {
        b->iovecs[i].iov_base = b->buffers + (size_t)i * buffer_size;
        b->iovecs[i].iov_len = buffer_size;
        b->messages[i].msg_hdr.msg_iov = &b->iovecs[i];
        b->messages[i].msg_hdr.msg_iovlen = 1;
        b->messages[i].msg_hdr.msg_name = &b->names[i];
    }
    return b;
}

void filament_batch_destroy(filament_batch *b) {
    if (!b) return;
    free(b->messages);
    free(b->iovecs);
    free(b->names);
    free(b->control);
    free(b->buffers);
    free(b->gso_messages);
    free(b->gso_control);
    free(b->gso_runs);
    free(b);
}

unsigned filament_batch_count(const filament_batch *b) { return b->count; }
unsigned filament_batch_buffer_size(const filament_batch *b) { return b->buffer_size; }
uint8_t *filament_batch_buffer(filament_batch *b, unsigned i) { return b->buffers + (size_t)i * b->buffer_size; }

size_t filament_batch_length(const filament_batch *b, unsigned i) {
    size_t n = b->messages[i].msg_len;
    return n > b->buffer_size ? b->buffer_size : n;
}

int filament_batch_truncated(const filament_batch *b, unsigned i) {
    return (b->messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

int filament_batch_recv(int fd, filament_batch *b, unsigned max) {
    unsigned n = max < b->count ? max : b->count;
    for (unsigned i = 0; i < n; i++) {
        struct msghdr *h = &b->messages[i].msg_hdr;
        b->iovecs[i].iov_len = b->buffer_size;
        h->msg_namelen = sizeof(struct sockaddr_storage);
        h->msg_control = b->control + (size_t)i * FILAMENT_CONTROL_SIZE;
        h->msg_controllen = FILAMENT_CONTROL_SIZE;
        h->msg_flags = 0;
        b->messages[i].msg_len = 0;
    }
    int r = recvmmsg(fd, b->messages, n, MSG_DONTWAIT, NULL);
    return r < 0 ? -errno : r;
}

int filament_batch_send(int fd, filament_batch *b, unsigned start, unsigned n) {
    if (start >= b->count) return 0;
    if (n > b->count - start) n = b->count - start;
    int r = sendmmsg(fd, b->messages + start, n, MSG_DONTWAIT);
    return r < 0 ? -errno : r;
}

void filament_batch_move(filament_batch *b, unsigned from, unsigned to) {
    if (from == to || from >= b->count || to >= b->count) return;
    memcpy(b->buffers + (size_t)to * b->buffer_size, b->buffers + (size_t)from * b->buffer_size, b->iovecs[from].iov_len);
    b->iovecs[to].iov_len = b->iovecs[from].iov_len;
    b->names[to] = b->names[from];
    struct msghdr *dst = &b->messages[to].msg_hdr, *src = &b->messages[from].msg_hdr;
    dst->msg_namelen = src->msg_namelen;
    dst->msg_flags = 0;
    if (src->msg_control && src->msg_controllen) {
        uint8_t *control = b->control + (size_t)to * FILAMENT_CONTROL_SIZE;
        memcpy(control, src->msg_control, src->msg_controllen);
        dst->msg_control = control;
        dst->msg_controllen = src->msg_controllen;
    } else {
        dst->msg_control = NULL;
        dst->msg_controllen = 0;
    }
}

int filament_batch_udp6_info(const filament_batch *b, unsigned i, filament_udp6_info *out) {
    memset(out, 0, sizeof *out);
    out->hop_limit = -1;
    const struct msghdr *h = &b->messages[i].msg_hdr;
    const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)&b->names[i];
    if (h->msg_namelen < sizeof(struct sockaddr_in6) || sa->sin6_family != AF_INET6) return -1;
    memcpy(out->source, &sa->sin6_addr, 16);
    out->source_scope = sa->sin6_scope_id;
    out->source_port = ntohs(sa->sin6_port);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int size;
            memcpy(&size, CMSG_DATA(c), sizeof size);
            out->segment_size = size > 0 ? (uint32_t)size : 0;
            continue;
        }
        if (c->cmsg_level != IPPROTO_IPV6) continue;
        if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            memcpy(out->destination, &pi.ipi6_addr, 16);
            out->ifindex = pi.ipi6_ifindex;
            out->has_pktinfo = 1;
        } else if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int hl;
            memcpy(&hl, CMSG_DATA(c), sizeof hl);
            out->hop_limit = hl;
        }
    }
    return 0;
}

void filament_batch_set_udp6(filament_batch *b, unsigned i, const uint8_t dst[16], uint32_t scope,
                             uint16_t port, uint32_t ifindex, size_t length) {
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&b->names[i];
    memset(sa, 0, sizeof *sa);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    memcpy(&sa->sin6_addr, dst, 16);
    sa->sin6_scope_id = scope;
    struct msghdr *h = &b->messages[i].msg_hdr;
    h->msg_namelen = sizeof *sa;
    b->iovecs[i].iov_len = length > b->buffer_size ? b->buffer_size : length;
    h->msg_flags = 0;
    if (ifindex) {
        uint8_t *control = b->control + (size_t)i * FILAMENT_CONTROL_SIZE;
        memset(control, 0, FILAMENT_CONTROL_SIZE);
        h->msg_control = control;
        h->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
        struct cmsghdr *c = CMSG_FIRSTHDR(h);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        pi.ipi6_ifindex = ifindex;
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    } else {
        h->msg_control = NULL;
        h->msg_controllen = 0;
    }
}

int filament_batch_ll_info(const filament_batch *b, unsigned i, filament_ll_info *out) {
    memset(out, 0, sizeof *out);
    const struct msghdr *h = &b->messages[i].msg_hdr;
    const struct sockaddr_ll *sa = (const struct sockaddr_ll *)&b->names[i];
    if (h->msg_namelen < offsetof(struct sockaddr_ll, sll_addr) || sa->sll_family != AF_PACKET) return -1;
    unsigned n = sa->sll_halen > 8 ? 8 : sa->sll_halen;
    memcpy(out->source, sa->sll_addr, n);
    out->address_length = (uint8_t)n;
    out->ifindex = (uint32_t)sa->sll_ifindex;
    out->protocol = ntohs(sa->sll_protocol);
    out->packet_type = sa->sll_pkttype;
    return 0;
}

void filament_batch_set_ll(filament_batch *b, unsigned i, const uint8_t dst[6], uint32_t ifindex,
                           uint16_t protocol, size_t length) {
    struct sockaddr_ll *sa = (struct sockaddr_ll *)&b->names[i];
    memset(sa, 0, sizeof *sa);
    sa->sll_family = AF_PACKET;
    sa->sll_protocol = htons(protocol);
    sa->sll_ifindex = (int)ifindex;
    sa->sll_halen = 6;
    memcpy(sa->sll_addr, dst, 6);
    struct msghdr *h = &b->messages[i].msg_hdr;
    h->msg_namelen = sizeof *sa;
    h->msg_control = NULL;
    h->msg_controllen = 0;
    h->msg_flags = 0;
    b->iovecs[i].iov_len = length > b->buffer_size ? b->buffer_size : length;
}

int filament_udp_enable_gro(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) < 0 ? -errno : 0;
}

// Whether slots i and j (prepared by filament_batch_set_udp6 without a control message) go to the
// same address and port.
static int same_udp6_destination(const filament_batch *b, unsigned i, unsigned j) {
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&b->names[i];
    const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->names[j];
    return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
           memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

int filament_batch_send_gso(int fd, filament_batch *b, unsigned start, unsigned n, unsigned max_segment,
                            unsigned *first_run, unsigned *segmented) {
    *first_run = 1;
    *segmented = 0;
    if (start >= b->count) return 0;
    if (n > b->count - start) n = b->count - start;
    if (!b->gso_messages) {
        b->gso_messages = calloc(b->count, sizeof *b->gso_messages);
        b->gso_control = calloc(b->count, FILAMENT_GSO_CONTROL_SIZE);
        b->gso_runs = calloc(b->count, sizeof *b->gso_runs);
        if (!b->gso_messages || !b->gso_control || !b->gso_runs) return -ENOMEM;
    }
    unsigned messages = 0;
    for (unsigned i = start; i < start + n;) {
        struct mmsghdr *m = &b->gso_messages[messages];
        *m = b->messages[i];
        m->msg_len = 0;
        size_t size = b->iovecs[i].iov_len;
        unsigned run = 1;
        size_t total = size;
        // A run: same destination, every datagram `size` bytes except a shorter last one, no
        // control message of its own, at most FILAMENT_GSO_MAX_SEGMENTS datagrams and 65,000 bytes.
        if (b->messages[i].msg_hdr.msg_controllen == 0 && size > 0 && size <= max_segment) {
            while (i + run < start + n && run < FILAMENT_GSO_MAX_SEGMENTS) {
                unsigned j = i + run;
                size_t next = b->iovecs[j].iov_len;
                if (next == 0 || next > size || total + next > 65000 || b->messages[j].msg_hdr.msg_controllen != 0 ||
                    !same_udp6_destination(b, i, j)) break;
                total += next;
                run++;
                if (next < size) break;   // a shorter datagram ends the run
            }
        }
        if (run > 1) {
            uint8_t *control = b->gso_control + (size_t)messages * FILAMENT_GSO_CONTROL_SIZE;
            memset(control, 0, FILAMENT_GSO_CONTROL_SIZE);
            m->msg_hdr.msg_iov = &b->iovecs[i];
            m->msg_hdr.msg_iovlen = run;
            m->msg_hdr.msg_control = control;
            m->msg_hdr.msg_controllen = FILAMENT_GSO_CONTROL_SIZE;
            struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg_hdr);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t segment = (uint16_t)size;
            memcpy(CMSG_DATA(c), &segment, sizeof segment);
        }
        b->gso_runs[messages] = run;
        messages++;
        i += run;
    }
    *first_run = b->gso_runs[0];
    int r = sendmmsg(fd, b->gso_messages, messages, MSG_DONTWAIT);
    if (r < 0) return -errno;
    unsigned slots = 0;
    for (int k = 0; k < r; k++) {
        slots += b->gso_runs[k];
        if (b->gso_runs[k] > 1) *segmented += 1;
    }
    return (int)slots;
}
