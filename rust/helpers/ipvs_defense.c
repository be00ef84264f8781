// SPDX-License-Identifier: GPL-2.0
/*
 * ipvs-defense overlay: wrappers for the static inline functions and macros that our
 * abstractions (rust/kernel/{net/netfilter,net/skbuff,sync/lock/spinlock_bh,sysctl}.rs) call.
 * Included from rust/helpers/helpers.c (see rust/overlay.lines); exported automatically.
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
