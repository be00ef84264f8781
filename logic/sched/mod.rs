// SPDX-License-Identifier: GPL-2.0
//! Schedulers: which real server gets a new connection.
//!
//! Every scheduler works on the caller's list of real servers (a slice of any type that
//! implements [`Dest`]) and returns an index into it, or `None` when no server can take the
//! connection. A weight of 0 means *quiesced*: the server keeps its connections but gets no
//! new one. Semantics follow the kernel's IPVS schedulers:
//!
//! - [`rr`]: round robin over the servers with weight > 0 (`ip_vs_rr.c`);
//! - [`wrr`]: weighted round robin interleaved by the gcd of the weights (`ip_vs_wrr.c`);
//! - [`lc`]: least connections and weighted least connections with the overhead
//!   `active × 256 + inactive` (`ip_vs_lc.c`, `ip_vs_wlc.c`);
//! - [`mh`]: Maglev hashing (NSDI 2016) over a caller-provided prime-sized table, so that
//!   directors behind ECMP pick the same server for a source without sharing state.
//!
//! [`Scheduler`] holds whichever the service uses and dispatches to it.

use super::names::ascii;
use core::ffi::CStr;

pub mod lc;
pub mod mh;
pub mod rr;
pub mod wrr;

/// What a scheduler needs to know about a real server.
pub trait Dest {
    /// The weight; 0 = quiesced.
    fn weight(&self) -> u32;
    /// Active (established) connections.
    fn active_conns(&self) -> u32;
    /// Inactive (every other state) connections.
    fn inactive_conns(&self) -> u32;
    /// The server's address (host order): with [`Dest::port`], its identity for Maglev.
    fn addr(&self) -> u32;
    /// The server's port.
    fn port(&self) -> u16;
}

/// A plain real server record implementing [`Dest`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RealServer {
    /// Address, host order.
    pub addr: u32,
    /// Port.
    pub port: u16,
    /// Weight; 0 = quiesced.
    pub weight: u32,
    /// Active connections.
    pub active: u32,
    /// Inactive connections.
    pub inactive: u32,
}

impl Dest for RealServer {
    fn weight(&self) -> u32 {
        self.weight
    }
    fn active_conns(&self) -> u32 {
        self.active
    }
    fn inactive_conns(&self) -> u32 {
        self.inactive
    }
    fn addr(&self) -> u32 {
        self.addr
    }
    fn port(&self) -> u16 {
        self.port
    }
}

/// The scheduler names of `ipvsadm -s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchedKind {
    /// `rr`.
    Rr,
    /// `wrr`.
    Wrr,
    /// `lc`.
    Lc,
    /// `wlc`.
    Wlc,
    /// `mh`.
    Mh,
}

impl SchedKind {
    /// Every scheduler.
    pub const ALL: [SchedKind; 5] = [
        SchedKind::Rr,
        SchedKind::Wrr,
        SchedKind::Lc,
        SchedKind::Wlc,
        SchedKind::Mh,
    ];

    /// The scheduler called `name` (`b"wlc"`), if any.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name().as_bytes() == name)
    }

    /// The scheduler's name, as a C string (for netlink and the kernel).
    pub const fn c_name(self) -> &'static CStr {
        match self {
            SchedKind::Rr => c"rr",
            SchedKind::Wrr => c"wrr",
            SchedKind::Lc => c"lc",
            SchedKind::Wlc => c"wlc",
            SchedKind::Mh => c"mh",
        }
    }

    /// The scheduler's name.
    pub const fn name(self) -> &'static str {
        ascii(self.c_name().to_bytes())
    }
}

/// A service's scheduler and its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduler {
    /// Round robin.
    Rr(rr::RoundRobin),
    /// Weighted round robin.
    Wrr(wrr::WeightedRoundRobin),
    /// Least connections (stateless).
    Lc,
    /// Weighted least connections (stateless).
    Wlc,
    /// Maglev: the state is the caller's lookup table, see [`mh`].
    Mh,
}

impl Scheduler {
    /// A fresh scheduler of `kind` for the servers `dests`.
    pub fn new<D: Dest>(kind: SchedKind, dests: &[D]) -> Self {
        match kind {
            SchedKind::Rr => Scheduler::Rr(rr::RoundRobin::new()),
            SchedKind::Wrr => Scheduler::Wrr(wrr::WeightedRoundRobin::new(dests)),
            SchedKind::Lc => Scheduler::Lc,
            SchedKind::Wlc => Scheduler::Wlc,
            SchedKind::Mh => Scheduler::Mh,
        }
    }

    /// Which scheduler this is.
    pub const fn kind(&self) -> SchedKind {
        match self {
            Scheduler::Rr(_) => SchedKind::Rr,
            Scheduler::Wrr(_) => SchedKind::Wrr,
            Scheduler::Lc => SchedKind::Lc,
            Scheduler::Wlc => SchedKind::Wlc,
            Scheduler::Mh => SchedKind::Mh,
        }
    }

    /// Call after servers were added, removed or re-weighted (the kernel's
    /// `update_service`/`*_dest` hooks). For `mh` the caller also rebuilds its table with
    /// [`mh::populate`].
    pub fn dests_changed<D: Dest>(&mut self, dests: &[D]) {
        match self {
            Scheduler::Rr(s) => s.dests_changed(),
            Scheduler::Wrr(s) => s.dests_changed(dests),
            Scheduler::Lc | Scheduler::Wlc | Scheduler::Mh => {}
        }
    }

    /// Picks the server for a new connection: an index into `dests`. `mh_table` and
    /// `source_hash` are used by `mh` only (pass `&[]` and 0 otherwise): the table built by
    /// [`mh::populate`] and [`mh::source_hash`] of the client.
    pub fn pick<D: Dest>(
        &mut self,
        dests: &[D],
        mh_table: &[u16],
        source_hash: u64,
    ) -> Option<usize> {
        match self {
            Scheduler::Rr(s) => s.pick(dests),
            Scheduler::Wrr(s) => s.pick(dests),
            Scheduler::Lc => lc::pick_lc(dests),
            Scheduler::Wlc => lc::pick_wlc(dests),
            Scheduler::Mh => mh::pick(mh_table, dests, source_hash),
        }
    }
}
