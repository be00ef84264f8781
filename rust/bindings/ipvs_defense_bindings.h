/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipvs-defense overlay: headers whose declarations the netfilter, sk_buff, route, sysctl,
 * generic netlink, timer, memory and per-CPU abstractions need. Included at the end of the
 * tree's rust/bindings/bindings_helper.h (see rust/overlay.lines).
 */
#include <linux/capability.h>
#include <linux/icmp.h>
#include <linux/if_ether.h>
#include <linux/inetdevice.h>
#include <linux/ip.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/sysctl.h>
#include <linux/tcp.h>
#include <linux/timer.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/dst.h>
#include <net/genetlink.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/route.h>
#include <uapi/linux/netfilter_ipv4.h>

const gfp_t RUST_CONST_HELPER_GFP_ATOMIC_NOWARN = GFP_ATOMIC | __GFP_NOWARN;
const size_t RUST_CONST_HELPER_NLMSG_DEFAULT_SIZE = NLMSG_DEFAULT_SIZE;
#include <linux/sched/mm.h>
