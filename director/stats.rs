// SPDX-License-Identifier: GPL-2.0

//! Traffic counters and drop counters, global, per service and per real server, what each
//! hook has seen, and the SYN proxy's counts.

use crate::logic::{
    drops::{DropReason, DROP_REASON_COUNT},
    packet::ParseError,
    proto::Attr,
    synproxy::ProxyCount,
};
use kernel::{net::genetlink::Msg, net::netfilter::Hook, percpu::PerCpuCounters, prelude::*};

/// Counters of one scope (the director, a service or a real server), per CPU: the packet
/// path writes only the running CPU's copy; reads sum them.
pub(crate) struct Stats {
    counters: PerCpuCounters<STATS_COUNT>,
}

/// Positions in [`Stats`]: the traffic counters, then one per drop reason.
const CONNS: usize = 0;
const INPKTS: usize = 1;
const OUTPKTS: usize = 2;
const INBYTES: usize = 3;
const OUTBYTES: usize = 4;
const FIRST_DROP: usize = 5;
const STATS_COUNT: usize = FIRST_DROP + DROP_REASON_COUNT;

impl Stats {
    /// Counters at zero. Might sleep.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            counters: PerCpuCounters::new()?,
        })
    }

    /// Counts a new connection.
    pub(crate) fn conn(&self) {
        self.counters.add(CONNS, 1);
    }

    /// Counts a packet client → real server.
    pub(crate) fn inbound(&self, bytes: u32) {
        self.counters.add(INPKTS, 1);
        self.counters.add(INBYTES, u64::from(bytes));
    }

    /// Counts a packet real server → client.
    pub(crate) fn outbound(&self, bytes: u32) {
        self.counters.add(OUTPKTS, 1);
        self.counters.add(OUTBYTES, u64::from(bytes));
    }

    /// Counts a drop.
    pub(crate) fn count_drop(&self, why: DropReason) {
        self.counters.add(FIRST_DROP + why.index(), 1);
    }

    /// The count of one drop reason.
    pub(crate) fn drops(&self, why: DropReason) -> u64 {
        self.counters.get(FIRST_DROP + why.index())
    }

    /// Sets every counter to zero.
    pub(crate) fn zero(&self) {
        self.counters.zero();
    }

    /// Appends every counter to a netlink message.
    pub(crate) fn put(&self, msg: &mut Msg<'_>) -> Result {
        msg.put_u64(Attr::StatConns, self.counters.get(CONNS))?;
        msg.put_u64(Attr::StatInpkts, self.counters.get(INPKTS))?;
        msg.put_u64(Attr::StatOutpkts, self.counters.get(OUTPKTS))?;
        msg.put_u64(Attr::StatInbytes, self.counters.get(INBYTES))?;
        msg.put_u64(Attr::StatOutbytes, self.counters.get(OUTBYTES))?;
        for r in DropReason::ALL {
            msg.put_u64(r.attr(), self.drops(r))?;
        }
        Ok(())
    }
}

/// Malformed packets by reason (`ParseError::ALL` order), director-wide and per CPU: the
/// breakdown of the `malformed` drop counter, shown as `malformed_<reason>` sysctls.
pub(crate) struct MalformedStats {
    counters: PerCpuCounters<{ ParseError::ALL.len() }>,
}

impl MalformedStats {
    /// Counters at zero. Might sleep.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            counters: PerCpuCounters::new()?,
        })
    }

    /// Counts a malformed packet under its reason.
    pub(crate) fn count(&self, why: ParseError) {
        if let Some(i) = ParseError::ALL.iter().position(|e| *e == why) {
            self.counters.add(i, 1);
        }
    }

    /// The malformed packets counted under `why`.
    pub(crate) fn get(&self, why: ParseError) -> u64 {
        ParseError::ALL
            .iter()
            .position(|e| *e == why)
            .map_or(0, |i| self.counters.get(i))
    }
}

/// Packets and bytes one hook saw.
#[derive(Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
}

/// The hooks' counters, per CPU: packets and bytes of `LOCAL_IN`, `FORWARD` and
/// `LOCAL_OUT`, in that order (a reader may see the packets of one more packet than its
/// bytes; they are statistics).
pub(crate) struct HookStats {
    counters: PerCpuCounters<6>,
}

impl HookStats {
    /// Counters at zero. Might sleep.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            counters: PerCpuCounters::new()?,
        })
    }

    /// The position of `hook`'s packet counter (its bytes follow): `LOCAL_IN`, `FORWARD`
    /// and `LOCAL_OUT` have some.
    fn of(hook: Hook) -> Option<usize> {
        match hook {
            Hook::LocalIn => Some(0),
            Hook::Forward => Some(2),
            Hook::LocalOut => Some(4),
            Hook::PreRouting | Hook::PostRouting => None,
        }
    }

    /// Counts one packet of `bytes` at `hook`.
    pub(crate) fn add(&self, hook: Hook, bytes: u32) {
        if let Some(i) = Self::of(hook) {
            self.counters.add(i, 1);
            self.counters.add(i + 1, u64::from(bytes));
        }
    }

    /// What `hook` has seen.
    pub(crate) fn get(&self, hook: Hook) -> Counts {
        Self::of(hook).map_or_else(Counts::default, |i| Counts {
            packets: self.counters.get(i),
            bytes: self.counters.get(i + 1),
        })
    }
}

/// The SYN proxy's counters (`logic::synproxy::ProxyCount`), per CPU.
pub(crate) struct ProxyStats {
    counters: PerCpuCounters<{ ProxyCount::ALL.len() }>,
}

impl ProxyStats {
    /// Counters at zero. Might sleep.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            counters: PerCpuCounters::new()?,
        })
    }

    /// Counts one `c`.
    pub(crate) fn count(&self, c: ProxyCount) {
        self.counters.add(c.index(), 1);
    }

    /// The count of `c`.
    pub(crate) fn get(&self, c: ProxyCount) -> u64 {
        self.counters.get(c.index())
    }
}
