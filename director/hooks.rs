// SPDX-License-Identifier: GPL-2.0

//! The netfilter hooks and what they have seen.

use super::{datapath::DataPath, fault, stats::HookStats};
use kernel::{
    net::netfilter::{Handler, Hook, HookState, Registration, Verdict},
    net::skbuff::SkBuff,
    prelude::*,
    sync::{rcu::Guard, Arc},
};

/// Netfilter's `NF_IP_PRI_NAT_SRC`-like slot would be too late; LVS runs its LOCAL_IN hook
/// at `NF_IP_PRI_NAT_SRC - 2` (98) and its FORWARD hook at 99/100. We take the same places,
/// and LVS's `NF_IP_PRI_NAT_DST + 1` (-99) at LOCAL_OUT, where the replies of real servers
/// that are the director itself pass.
const PRI_LOCAL_IN: i32 = 98;
const PRI_FORWARD: i32 = 99;
const PRI_LOCAL_OUT: i32 = -99;
/// Just before conntrack (`NF_IP_PRI_CONNTRACK`, -200), after the raw table (-300): where a
/// `notrack` rule would untrack our flows.
const PRI_UNTRACK: i32 = -201;

/// The handler of `LOCAL_IN`, `FORWARD` and `LOCAL_OUT`: counts what the hook sees and
/// runs the data path's entry point for it.
pub(crate) struct DataPathHook {
    hook: Hook,
    stats: Arc<HookStats>,
    dp: Arc<DataPath>,
}

impl Handler for DataPathHook {
    fn handle<'a>(
        &'a self,
        skb: &mut SkBuff,
        state: &HookState<'_>,
        guard: &'a Guard,
    ) -> Verdict<'a> {
        fault::slow_hook();
        self.stats.add(self.hook, skb.network_len());
        match self.hook {
            Hook::LocalIn => self.dp.inbound(skb, guard),
            Hook::Forward => self.dp.outbound(skb, state.in_ifindex(), guard),
            Hook::LocalOut => self.dp.local_out(skb, guard),
            Hook::PreRouting | Hook::PostRouting => Verdict::Accept,
        }
    }

    fn reassemble(&self, skb: &SkBuff) -> bool {
        self.hook == Hook::Forward && self.dp.from_real_server_addr(skb)
    }
}

/// The `PRE_ROUTING` handler that keeps conntrack off our flows
/// ([`DataPath::pre_routing`]).
pub(crate) struct Untrack(Arc<DataPath>);

impl Handler for Untrack {
    fn handle<'a>(
        &'a self,
        skb: &mut SkBuff,
        _state: &HookState<'_>,
        guard: &'a Guard,
    ) -> Verdict<'a> {
        self.0.pre_routing(skb, guard)
    }
}

/// The registered hooks; dropping this unregisters them (in declaration order).
pub(crate) struct Hooks {
    _local_in: Registration<DataPathHook>,
    _forward: Registration<DataPathHook>,
    _local_out: Registration<DataPathHook>,
    _untrack: Registration<Untrack>,
}

impl Hooks {
    pub(crate) fn register(stats: Arc<HookStats>, dp: Arc<DataPath>) -> Result<Self> {
        let hook = |hook, priority| {
            Registration::new(
                hook,
                priority,
                DataPathHook {
                    hook,
                    stats: Arc::clone(&stats),
                    dp: Arc::clone(&dp),
                },
            )
        };
        Ok(Self {
            _local_in: hook(Hook::LocalIn, PRI_LOCAL_IN)?,
            _forward: hook(Hook::Forward, PRI_FORWARD)?,
            _local_out: hook(Hook::LocalOut, PRI_LOCAL_OUT)?,
            _untrack: {
                fault::last_registration()?;
                Registration::new(Hook::PreRouting, PRI_UNTRACK, Untrack(dp))?
            },
        })
    }
}
