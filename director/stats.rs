// SPDX-License-Identifier: GPL-2.0

//! Traffic counters and drop counters, global, per service and per real server, and what
//! each hook has seen.

use crate::logic::{
    drops::{DropReason, DROP_REASON_COUNT},
    packet::ParseError,
    proto::Attr,
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{net::genetlink::Msg, net::netfilter::Hook, prelude::*, sync::Arc};

/// Counters of one scope (the director, a service or a real server).
#[derive(Default)]
pub(crate) struct Stats {
    conns: AtomicU64,
    inpkts: AtomicU64,
    outpkts: AtomicU64,
    inbytes: AtomicU64,
    outbytes: AtomicU64,
    drops: [AtomicU64; DROP_REASON_COUNT],
}

impl Stats {
    /// Counts a new connection.
    pub(crate) fn conn(&self) {
        self.conns.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a packet client → real server.
    pub(crate) fn inbound(&self, bytes: u32) {
        self.inpkts.fetch_add(1, Ordering::Relaxed);
        self.inbytes.fetch_add(u64::from(bytes), Ordering::Relaxed);
    }

    /// Counts a packet real server → client.
    pub(crate) fn outbound(&self, bytes: u32) {
        self.outpkts.fetch_add(1, Ordering::Relaxed);
        self.outbytes.fetch_add(u64::from(bytes), Ordering::Relaxed);
    }

    /// Counts a drop.
    pub(crate) fn count_drop(&self, why: DropReason) {
        if let Some(c) = self.drops.get(why.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The count of one drop reason.
    pub(crate) fn drops(&self, why: DropReason) -> u64 {
        self.drops
            .get(why.index())
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Sets every counter to zero.
    pub(crate) fn zero(&self) {
        let fixed = [
            &self.conns,
            &self.inpkts,
            &self.outpkts,
            &self.inbytes,
            &self.outbytes,
        ];
        for c in Iterator::chain(fixed.into_iter(), self.drops.iter()) {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Appends every counter to a netlink message.
    pub(crate) fn put(&self, msg: &mut Msg<'_>) -> Result {
        msg.put_u64(Attr::StatConns, self.conns.load(Ordering::Relaxed))?;
        msg.put_u64(Attr::StatInpkts, self.inpkts.load(Ordering::Relaxed))?;
        msg.put_u64(Attr::StatOutpkts, self.outpkts.load(Ordering::Relaxed))?;
        msg.put_u64(Attr::StatInbytes, self.inbytes.load(Ordering::Relaxed))?;
        msg.put_u64(Attr::StatOutbytes, self.outbytes.load(Ordering::Relaxed))?;
        for r in DropReason::ALL {
            msg.put_u64(r.attr(), self.drops(r))?;
        }
        Ok(())
    }
}

/// A counter of its own (not part of a [`Stats`]).
pub(crate) struct Counter(AtomicU64);

impl Counter {
    /// The count.
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Malformed packets for a service, by reason (`ParseError::ALL` order): the director-wide
/// breakdown of the `malformed` drop counter, shown as `malformed_<reason>` sysctls.
pub(crate) static MALFORMED: [Counter; ParseError::ALL.len()] =
    [const { Counter(AtomicU64::new(0)) }; ParseError::ALL.len()];

/// Counts a malformed packet under its reason.
pub(crate) fn count_malformed(why: ParseError) {
    if let Some(i) = ParseError::ALL.iter().position(|e| *e == why) {
        if let Some(c) = MALFORMED.get(i) {
            c.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Packets and bytes one hook saw.
#[derive(Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
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

    /// The counters of `hook`: `LOCAL_IN`, `FORWARD` and `LOCAL_OUT` have some.
    fn of(&self, hook: Hook) -> Option<&PerHook> {
        match hook {
            Hook::LocalIn => Some(&self.hooks[0]),
            Hook::Forward => Some(&self.hooks[1]),
            Hook::LocalOut => Some(&self.hooks[2]),
            Hook::PreRouting | Hook::PostRouting => None,
        }
    }

    /// Counts one packet of `bytes` at `hook`.
    pub(crate) fn add(&self, hook: Hook, bytes: u32) {
        if let Some(c) = self.of(hook) {
            c.packets.fetch_add(1, Ordering::Relaxed);
            c.bytes.fetch_add(u64::from(bytes), Ordering::Relaxed);
        }
    }

    /// What `hook` has seen.
    pub(crate) fn get(&self, hook: Hook) -> Counts {
        self.of(hook).map_or_else(Counts::default, |c| Counts {
            packets: c.packets.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
        })
    }
}
