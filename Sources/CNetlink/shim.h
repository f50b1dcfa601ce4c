// CNetlink exists so the daemon runtime can reach the kernel's routing tables through libnl
// (pkg-config `libnl-3.0`, `libnl-route-3.0`). Only the daemon runtime imports it.
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
