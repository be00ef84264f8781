// SPDX-License-Identifier: GPL-2.0

//! The netfilter hooks and what they have seen.

use super::datapath::DataPath;
use kernel::{
    net::netfilter::{Handler, Hook, HookState, Registration, Verdict},
    net::skbuff::SkBuff,
    new_spinlock_bh,
    prelude::*,
    sync::{Arc, SpinLockBh},
};

/// Netfilter's `NF_IP_PRI_NAT_SRC`-like slot would be too late; LVS runs its LOCAL_IN hook
/// at `NF_IP_PRI_NAT_SRC - 2` (98) and its FORWARD hook at 99/100. We take the same places.
const PRI_LOCAL_IN: i32 = 98;
const PRI_FORWARD: i32 = 99;

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
}

#[derive(Default)]
struct PerHook {
    local_in: Counts,
    forward: Counts,
}

/// The hooks' counters. Updated from the hooks (softirq) and read from sysctl handlers
/// (process context), so they sit under a bh-safe spinlock: packets and bytes always agree.
#[pin_data]
pub(crate) struct HookStats {
    #[pin]
    counts: SpinLockBh<PerHook>,
}

impl HookStats {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                counts <- new_spinlock_bh!(PerHook::default(), "ipvs_defense_hook_stats"),
            }),
            GFP_KERNEL,
        )
    }

    fn add(&self, which: Which, bytes: u32) {
        let mut c = self.counts.lock();
        let c = match which {
            Which::LocalIn => &mut c.local_in,
            Which::Forward => &mut c.forward,
        };
        c.packets = c.packets.wrapping_add(1);
        c.bytes = c.bytes.wrapping_add(u64::from(bytes));
    }

    pub(crate) fn get(&self, which: Which) -> Counts {
        let c = self.counts.lock();
        match which {
            Which::LocalIn => c.local_in,
            Which::Forward => c.forward,
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
    fn handle(&self, skb: &mut SkBuff, _state: &HookState<'_>) -> Verdict {
        self.stats.add(self.which, skb.network_len());
        match self.which {
            Which::LocalIn => self.dp.inbound(skb),
            Which::Forward => self.dp.outbound(skb),
        }
    }
}

/// The registered hooks; dropping this unregisters them.
pub(crate) struct Hooks {
    _local_in: Registration<Counter>,
    _forward: Registration<Counter>,
}

impl Hooks {
    pub(crate) fn register(stats: Arc<HookStats>, dp: Arc<DataPath>) -> Result<Self> {
        let local_in = Registration::new(
            Hook::LocalIn,
            PRI_LOCAL_IN,
            Counter {
                which: Which::LocalIn,
                stats: Arc::clone(&stats),
                dp: Arc::clone(&dp),
            },
        )?;
        let forward = Registration::new(
            Hook::Forward,
            PRI_FORWARD,
            Counter {
                which: Which::Forward,
                stats,
                dp,
            },
        )?;
        Ok(Self {
            _local_in: local_in,
            _forward: forward,
        })
    }
}
