// CNetlink exists so the daemon runtime can reach the kernel's links, addresses and routing tables
// through libnl (pkg-config `libnl-3.0`, `libnl-route-3.0`). Only FilamentLinux imports it; no libnl
// type reaches public Swift API.
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

// Macros and enum values re-exported with fixed C types, so Swift sees plain integers.
static const int filament_nl_IFF_UP = IFF_UP;
static const int filament_nl_IFF_LOWER_UP = IFF_LOWER_UP;
static const int filament_nl_IFA_F_TENTATIVE = IFA_F_TENTATIVE;
static const int filament_nl_IFA_F_DADFAILED = IFA_F_DADFAILED;
static const int filament_nl_IFA_F_NODAD = IFA_F_NODAD;
static const int filament_nl_NLM_F_REPLACE = NLM_F_REPLACE;
static const int filament_nl_NLM_F_CREATE = NLM_F_CREATE;
static const int filament_nl_RTM_NEWLINK = RTM_NEWLINK;
static const int filament_nl_RTM_DELLINK = RTM_DELLINK;
static const int filament_nl_RTM_NEWADDR = RTM_NEWADDR;
static const int filament_nl_RTM_DELADDR = RTM_DELADDR;
static const int filament_nl_RTM_NEWROUTE = RTM_NEWROUTE;
static const int filament_nl_RTM_DELROUTE = RTM_DELROUTE;
static const int filament_nl_RTNLGRP_LINK = RTNLGRP_LINK;
static const int filament_nl_RTNLGRP_IPV6_IFADDR = RTNLGRP_IPV6_IFADDR;
static const int filament_nl_RTNLGRP_IPV6_ROUTE = RTNLGRP_IPV6_ROUTE;
static const int filament_nl_RTNLGRP_IPV4_ROUTE = RTNLGRP_IPV4_ROUTE;
static const int filament_nl_RTN_UNICAST = RTN_UNICAST;
static const int filament_nl_RT_SCOPE_UNIVERSE = RT_SCOPE_UNIVERSE;
static const int filament_nl_RT_SCOPE_LINK = RT_SCOPE_LINK;

/// The netlink message type (RTM_*) of `msg`: nlmsg_hdr returns a pointer to a struct Swift would
/// otherwise have to mirror.
static inline int filament_nl_msg_type(struct nl_msg *msg) { return nlmsg_hdr(msg)->nlmsg_type; }
