// SPDX-License-Identifier: GPL-2.0

//! The netfilter hooks and what they have seen.

use super::{datapath::DataPath, fault};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    net::netfilter::{Handler, Hook, HookState, Registration, Verdict},
    net::skbuff::SkBuff,
    prelude::*,
    sync::Arc,
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

/// Packets and bytes one hook saw.
#[derive(Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
}

/// Which hook a counter belongs to.
#[derive(Clone, Copy)]
pub(crate) enum Which {
    LocalIn,
    Forward,
    LocalOut,
}

#[derive(Default)]
struct PerHook {
    packets: AtomicU64,
    bytes: AtomicU64,
}

/// The hooks' counters: plain atomics, no lock on the packet path (a reader may see the
/// packets of one more packet than its bytes; they are statistics).
#[derive(Default)]
pub(crate) struct HookStats {
    hooks: [PerHook; 3],
}

impl HookStats {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(Self::default(), GFP_KERNEL)?)
    }

    fn of(&self, which: Which) -> &PerHook {
        let i = match which {
            Which::LocalIn => 0,
            Which::Forward => 1,
            Which::LocalOut => 2,
        };
        &self.hooks[i]
    }

    fn add(&self, which: Which, bytes: u32) {
        let c = self.of(which);
        c.packets.fetch_add(1, Ordering::Relaxed);
        c.bytes.fetch_add(u64::from(bytes), Ordering::Relaxed);
    }

    pub(crate) fn get(&self, which: Which) -> Counts {
        let c = self.of(which);
        Counts {
            packets: c.packets.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
        }
    }
}

/// One hook point's handler: counts what it sees and runs the data path.
pub(crate) struct Counter {
    which: Which,
    stats: Arc<HookStats>,
    dp: Arc<DataPath>,
}

impl Handler for Counter {
    fn handle(&self, skb: &mut SkBuff, state: &HookState<'_>) -> Verdict {
        fault::slow_hook();
        self.stats.add(self.which, skb.network_len());
        match self.which {
            Which::LocalIn => self.dp.inbound(skb),
            Which::Forward => self.dp.outbound(skb, state.in_ifindex()),
            Which::LocalOut => self.dp.local_out(skb),
        }
    }

    fn reassemble(&self, skb: &SkBuff) -> bool {
        matches!(self.which, Which::Forward) && self.dp.from_real_server_addr(skb)
    }
}

/// The `PRE_ROUTING` handler that keeps conntrack off our flows
/// ([`DataPath::pre_routing`]).
pub(crate) struct Untrack(Arc<DataPath>);

impl Handler for Untrack {
    fn handle(&self, skb: &mut SkBuff, _state: &HookState<'_>) -> Verdict {
        self.0.pre_routing(skb)
    }
}

/// The registered hooks; dropping this unregisters them (in declaration order).
pub(crate) struct Hooks {
    _local_in: Registration<Counter>,
    _forward: Registration<Counter>,
    _local_out: Registration<Counter>,
    _untrack: Registration<Untrack>,
}

impl Hooks {
    pub(crate) fn register(stats: Arc<HookStats>, dp: Arc<DataPath>) -> Result<Self> {
        let hook = |hook, priority, which| {
            Registration::new(
                hook,
                priority,
                Counter {
                    which,
                    stats: Arc::clone(&stats),
                    dp: Arc::clone(&dp),
                },
            )
        };
        Ok(Self {
            _local_in: hook(Hook::LocalIn, PRI_LOCAL_IN, Which::LocalIn)?,
            _forward: hook(Hook::Forward, PRI_FORWARD, Which::Forward)?,
            _local_out: hook(Hook::LocalOut, PRI_LOCAL_OUT, Which::LocalOut)?,
            _untrack: {
                fault::last_registration()?;
                Registration::new(Hook::PreRouting, PRI_UNTRACK, Untrack(dp))?
            },
        })
    }
}
