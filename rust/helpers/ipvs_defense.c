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
