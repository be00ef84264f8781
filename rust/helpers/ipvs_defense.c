// SPDX-License-Identifier: GPL-2.0
/*
 * ipvs-defense overlay: wrappers for the static inline functions and macros that our
 * abstractions (rust/kernel/{net/netfilter,net/skbuff,sync/lock/spinlock_bh,sysctl,percpu}.rs)
 * call. Included from rust/helpers/helpers.c (see rust/overlay.lines); exported automatically.
 */

#include <linux/skbuff.h>
#include <linux/spinlock.h>

void rust_helper_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void rust_helper_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

unsigned char *rust_helper_skb_network_header(const struct sk_buff *skb)
{
	return skb_network_header(skb);
}

int rust_helper_skb_network_offset(const struct sk_buff *skb)
{
	return skb_network_offset(skb);
}

bool rust_helper_pskb_may_pull(struct sk_buff *skb, unsigned int len)
{
	return pskb_may_pull(skb, len);
}

unsigned int rust_helper_skb_headlen(const struct sk_buff *skb)
{
	return skb_headlen(skb);
}

bool rust_helper_skb_is_gso(const struct sk_buff *skb)
{
	return skb_is_gso(skb);
}

/* skb->skb_iif sits in an anonymous struct group that bindgen renders as a union field. */
int rust_helper_ipvsd_skb_iif(const struct sk_buff *skb)
{
	return skb->skb_iif;
}

/* Generic netlink (rust/kernel/net/genetlink.rs). */
#include <net/genetlink.h>
#include <net/netlink.h>

struct sk_buff *rust_helper_genlmsg_new(size_t payload, gfp_t flags)
{
	return genlmsg_new(payload, flags);
}

void *rust_helper_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info,
				    const struct genl_family *family, int flags, u8 cmd)
{
	return genlmsg_put_reply(skb, info, family, flags, cmd);
}

void rust_helper_genlmsg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void rust_helper_genlmsg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int rust_helper_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

void rust_helper_nlmsg_free(struct sk_buff *skb)
{
	nlmsg_free(skb);
}

const struct genl_dumpit_info *rust_helper_genl_dumpit_info(struct netlink_callback *cb)
{
	return genl_dumpit_info(cb);
}

void rust_helper_genl_dump_check_consistent(struct netlink_callback *cb, void *user_hdr)
{
	genl_dump_check_consistent(cb, user_hdr);
}

/* genlmsg_put() for one message of a dump: NETLINK_CB() is a macro. */
void *rust_helper_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb,
				   const struct genl_family *family, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq, family,
			   NLM_F_MULTI, cmd);
}

int rust_helper_nla_put_u8(struct sk_buff *skb, int attrtype, u8 value)
{
	return nla_put_u8(skb, attrtype, value);
}

int rust_helper_nla_put_u16(struct sk_buff *skb, int attrtype, u16 value)
{
	return nla_put_u16(skb, attrtype, value);
}

int rust_helper_nla_put_u32(struct sk_buff *skb, int attrtype, u32 value)
{
	return nla_put_u32(skb, attrtype, value);
}

int rust_helper_nla_put_u64_64bit(struct sk_buff *skb, int attrtype, u64 value, int padattr)
{
	return nla_put_u64_64bit(skb, attrtype, value, padattr);
}

int rust_helper_nla_put_string(struct sk_buff *skb, int attrtype, const char *str)
{
	return nla_put_string(skb, attrtype, str);
}

void *rust_helper_nla_data(const struct nlattr *nla)
{
	return nla_data(nla);
}

int rust_helper_nla_len(const struct nlattr *nla)
{
	return nla_len(nla);
}

/* RCU (rust/kernel/sync/rcu.rs): 6.12 has no Rust RCU helpers. */
#include <linux/rcupdate.h>

void rust_helper_rcu_read_lock(void)
{
	rcu_read_lock();
}

void rust_helper_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

/* Delayed work and time (rust/kernel/delayed_work.rs, rust/kernel/jiffies.rs). */
#include <linux/jiffies.h>
#include <linux/workqueue.h>

void rust_helper_init_delayed_work(struct delayed_work *dw, work_func_t func)
{
	INIT_DELAYED_WORK(dw, func);
}

bool rust_helper_queue_delayed_work_system(struct delayed_work *dw, unsigned long delay)
{
	return queue_delayed_work(system_wq, dw, delay);
}

u64 rust_helper_get_jiffies_64(void)
{
	return get_jiffies_64();
}

unsigned long rust_helper_msecs_to_jiffies(const unsigned int m)
{
	return msecs_to_jiffies(m);
}

/* Routing and transmission for the data path (rust/kernel/net/route.rs, skbuff.rs). */
#include <net/icmp.h>
#include <net/route.h>

struct rtable *rust_helper_ip_route_output(struct net *net, __be32 daddr, __be32 saddr,
					   u8 tos, int oif, __u8 scope)
{
	return ip_route_output(net, daddr, saddr, tos, oif, scope);
}

void rust_helper_ip_rt_put(struct rtable *rt)
{
	ip_rt_put(rt);
}

struct dst_entry *rust_helper_dst_check(struct dst_entry *dst, u32 cookie)
{
	return dst_check(dst, cookie);
}

void rust_helper_dst_hold(struct dst_entry *dst)
{
	dst_hold(dst);
}

void rust_helper_skb_dst_set_noref(struct sk_buff *skb, struct dst_entry *dst)
{
	skb_dst_set_noref(skb, dst);
}

u32 rust_helper_dst_mtu(const struct dst_entry *dst)
{
	return dst_mtu(dst);
}

bool rust_helper_netif_running(const struct net_device *dev)
{
	return netif_running(dev);
}

bool rust_helper_netif_carrier_ok(const struct net_device *dev)
{
	return netif_carrier_ok(dev);
}

void rust_helper_skb_dst_drop(struct sk_buff *skb)
{
	skb_dst_drop(skb);
}

void rust_helper_skb_dst_set(struct sk_buff *skb, struct dst_entry *dst)
{
	skb_dst_set(skb, dst);
}

void rust_helper_icmp_send(struct sk_buff *skb_in, int type, int code, __be32 info)
{
	icmp_send(skb_in, type, code, info);
}

/* skb->ip_summed is a bitfield. */
u8 rust_helper_skb_ip_summed(const struct sk_buff *skb)
{
	return skb->ip_summed;
}

void rust_helper_skb_set_checksum_none(struct sk_buff *skb)
{
	skb->ip_summed = CHECKSUM_NONE;
}

/*
 * A new IPv4 packet of @len bytes, network header at the start of the data, headroom for
 * any link layer (rust/kernel/net/skbuff.rs: NewPacket). Atomic: callable from hooks.
 */
struct sk_buff *rust_helper_alloc_ipv4_skb(unsigned int len)
{
	struct sk_buff *skb = alloc_skb(len + LL_MAX_HEADER, GFP_ATOMIC);

	if (!skb)
		return NULL;
	skb_reserve(skb, LL_MAX_HEADER);
	skb_reset_network_header(skb);
	skb_put_zero(skb, len);
	skb->protocol = htons(ETH_P_IP);
	return skb;
}

void rust_helper_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

unsigned char *rust_helper_skb_data(const struct sk_buff *skb)
{
	return skb->data;
}

/*
 * What forwarding does to a packet that arrived and is sent on (rust/kernel/net/skbuff.rs):
 * ip_forward and IPVS's NAT transmit clear the receive timestamp and drop an early-demux
 * socket (ip_vs_drop_early_demux_sk); IPVS untracks its flows (ip_vs_notrack).
 */
#include <linux/netfilter/nf_conntrack_common.h>

void rust_helper_skb_orphan(struct sk_buff *skb)
{
	skb_orphan(skb);
}

void rust_helper_skb_clear_tstamp(struct sk_buff *skb)
{
	skb_clear_tstamp(skb);
}

/* ip_vs_notrack(): give back the packet's conntrack entry (if any) and mark it untracked. */
void rust_helper_ipvsd_skb_untrack(struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	nf_reset_ct(skb);
	skb_set_nfct(skb, IP_CT_UNTRACKED);
#endif
}

/* Busy waiting (rust/kernel/jiffies.rs): udelay() is a macro on x86. */
#include <linux/delay.h>

void rust_helper_udelay(unsigned long usecs)
{
	udelay(usecs);
}

/* The FIB entry behind a route (rust/kernel/net/route.rs: fib_prefix_len). */
#include <net/ip_fib.h>

/* The prefix length of the FIB entry that routes @daddr in @net, or a negative errno. */
int rust_helper_ipvsd_fib_prefixlen(struct net *net, __be32 daddr)
{
	struct flowi4 fl4 = { .daddr = daddr, .flowi4_scope = RT_SCOPE_UNIVERSE };
	struct fib_result res;
	int err;

	rcu_read_lock();
	err = fib_lookup(net, &fl4, &res, 0);
	rcu_read_unlock();
	return err ? err : res.prefixlen;
}

/* dst->dev of a route (rust/kernel/net/route.rs: Route::ifindex). */
int rust_helper_ipvsd_dst_ifindex(const struct dst_entry *dst)
{
	return dst->dev ? dst->dev->ifindex : 0;
}

/*
 * Reassembly of fragments before a hook's handler (rust/kernel/net/netfilter.rs), as IPVS
 * does (ip_vs_gather_frags): 0 when @skb is now the whole datagram (its header checksum
 * recomputed), otherwise @skb was queued or freed.
 */
int rust_helper_ipvsd_defrag(struct net *net, struct sk_buff *skb)
{
	int err;

	local_bh_disable();
	err = ip_defrag(net, skb, IP_DEFRAG_VS_FWD);
	local_bh_enable();
	if (!err)
		ip_send_check(ip_hdr(skb));
	return err;
}

#include <linux/capability.h>

/*
 * What GENL_ADMIN_PERM checks (genl_family_rcv_msg): the sender of @skb has CAP_NET_ADMIN
 * in the initial user namespace.
 */
bool rust_helper_ipvsd_netlink_net_admin(const struct sk_buff *skb)
{
	return netlink_capable(skb, CAP_NET_ADMIN);
}

/* Per-CPU counters (rust/kernel/percpu.rs). */
#include <linux/cpumask.h>
#include <linux/percpu.h>

void __percpu *rust_helper_ipvsd_alloc_percpu(size_t size, size_t align)
{
	return __alloc_percpu(size, align);
}

void rust_helper_ipvsd_this_cpu_add_u64(u64 __percpu *counter, u64 value)
{
	this_cpu_add(*counter, value);
}

u64 *rust_helper_ipvsd_per_cpu_ptr_u64(u64 __percpu *counter, int cpu)
{
	return per_cpu_ptr(counter, cpu);
}

unsigned int rust_helper_ipvsd_next_possible_cpu(int cpu)
{
	return cpumask_next(cpu, cpu_possible_mask);
}

unsigned int rust_helper_ipvsd_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}
