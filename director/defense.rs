// SPDX-License-Identifier: GPL-2.0

//! The defense controller (Documentation/ipvs-defense.rst, "Defense").
//!
//! `defense_level` (the sysctl) always holds the level in force. Every change goes through
//! the logic's `Defense` state machine under the controller's lock, which also counts and
//! logs it: the operator's (sysctl or netlink, [`Controller::set_level`]) at once, and the
//! automatic ones, once a second in process context ([`Ticker`]), where the controller
//! weighs available memory (free and buffer pages) against `amemthresh` and the table's
//! fill against its watermarks (`table_fill_high`, `table_fill_low`, percent of
//! `conn_max`) and moves the level 0 → 1 or 1 → 0 (never from 2). So no write is lost to
//! a switch racing it, and each switch is logged once. The packet path only reads atomics:
//! whether defense is engaged, and the current SYN drop rate, whose drops a shared counter
//! spreads evenly over every CPU.

use super::{table::Table, tunables::Tunables};
use crate::logic::{
    defense::{syn_drop_rate, Cause, Defense, DropCounter, Level, Pressure, Switch},
    known::KnownClients,
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    delayed_work, jiffies,
    meminfo::MemInfo,
    new_spinlock_bh,
    percpu::PerCpuCounters,
    prelude::*,
    random,
    sync::{Arc, SpinLockBh},
};

/// Slots of the known-clients table (8 bytes each: 512 KiB).
const KNOWN_SLOTS: usize = 1 << 16;

/// The controller's state.
#[pin_data]
pub(crate) struct Controller {
    #[pin]
    defense: SpinLockBh<Defense>,
    /// The tunables it reads, and `defense_level`, which it alone sets.
    tunables: Arc<Tunables>,
    /// Available pages at the last tick.
    available: AtomicU64,
    /// Level switches so far.
    switches: AtomicU64,
    /// The SYN drop spreader (`DropCounter` bits), shared by every CPU.
    syn_counter: AtomicU64,
    /// The known-clients table's slots and hash key.
    known: KVVec<AtomicU64>,
    known_key: u64,
    /// SYNs of known clients that skipped the rate drop.
    known_passes: PerCpuCounters<1>,
}

impl Controller {
    /// Allocates the known-clients table and the per-CPU counter; pin-initialises the rest.
    pub(crate) fn new(tunables: Arc<Tunables>) -> Result<impl PinInit<Self>> {
        let mut known = KVVec::with_capacity(KNOWN_SLOTS, GFP_KERNEL)?;
        for _ in 0..KNOWN_SLOTS {
            known.push(AtomicU64::new(0), GFP_KERNEL)?;
        }
        let known_passes = PerCpuCounters::new()?;
        Ok(pin_init!(Self {
            defense <- new_spinlock_bh!(Defense::new(), "ipvs_defense_controller"),
            tunables,
            available: AtomicU64::new(MemInfo::read().available_pages()),
            switches: AtomicU64::new(0),
            syn_counter: AtomicU64::new(0),
            known,
            known_key: random::u64(),
            known_passes,
        }))
    }

    fn known_clients(&self) -> KnownClients<'_> {
        KnownClients::new(&self.known, self.known_key)
    }

    fn now_secs() -> u32 {
        (jiffies::now() / jiffies::HZ) as u32
    }

    /// Remembers a client (network-order bytes as a host-order `u32`) that completed a
    /// real handshake, for `known_client_ttl` seconds.
    pub(crate) fn remember_client(&self, addr: u32) {
        let ttl = self.tunables.known_client_ttl.get().max(0) as u32;
        self.known_clients().remember(addr, Self::now_secs(), ttl);
    }

    /// Whether a new-connection SYN from `addr` is to be dropped by the rate: never for a
    /// known client (counted in `known_client_passes`).
    pub(crate) fn drop_new_syn(&self, addr: u32) -> bool {
        if self.drop_rate().is_none() {
            return false;
        }
        if self.tunables.known_client_ttl.get() > 0
            && self.known_clients().contains(addr, Self::now_secs())
        {
            self.known_passes.add(0, 1);
            return false;
        }
        self.should_drop_syn()
    }

    /// SYNs of known clients that skipped the rate drop.
    pub(crate) fn known_passes(&self) -> u64 {
        self.known_passes.get(0)
    }

    /// Whether defense is engaged (level 1 or 2): secure table, defense timeouts, SYN drops,
    /// eviction, ACK validation.
    pub(crate) fn engaged(&self) -> bool {
        self.tunables.defense_level.get() != 0
    }

    /// Available pages at the last check.
    pub(crate) fn available(&self) -> u64 {
        self.available.load(Ordering::Relaxed)
    }

    /// Level switches so far.
    pub(crate) fn switches(&self) -> u64 {
        self.switches.load(Ordering::Relaxed)
    }

    /// The SYN drop rate in force ("one in N"), or `None`.
    pub(crate) fn drop_rate(&self) -> Option<u64> {
        if !self.engaged() {
            return None;
        }
        syn_drop_rate(
            self.available(),
            self.tunables.amemthresh.get().max(0) as u64,
            self.tunables.syn_drop_rate.get().max(0) as u64,
        )
    }

    /// Counts one new-connection SYN and says whether to drop it: exactly one in N over
    /// all CPUs (compare-and-swap on the shared counter).
    fn should_drop_syn(&self) -> bool {
        let rate = self.drop_rate();
        if rate.is_none() {
            return false;
        }
        let mut cur = self.syn_counter.load(Ordering::Relaxed);
        loop {
            let (next, drop) = DropCounter::from_bits(cur).step(rate);
            match self.syn_counter.compare_exchange_weak(
                cur,
                next.to_bits(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return drop,
                Err(seen) => cur = seen,
            }
        }
    }

    /// Sets the level the operator chose (sysctl or netlink), at once and under the lock
    /// automatic switches take, so that none overrides or loses it; counts and logs it.
    pub(crate) fn set_level(&self, level: Level) {
        let mut d = self.defense.lock();
        let switch = d.set_level(level);
        self.apply(&d, switch, None);
    }

    /// The once-a-second check, with `used` entries in the table.
    fn tick(&self, used: u32) {
        let available = MemInfo::read().available_pages();
        self.available.store(available, Ordering::Relaxed);
        let p = Pressure {
            available,
            amemthresh: self.tunables.amemthresh.get().max(0) as u64,
            used: used.into(),
            capacity: self.tunables.conn_max.get().max(0) as u64,
            fill_high: self.tunables.table_fill_high.get().max(0) as u64,
            fill_low: self.tunables.table_fill_low.get().max(0) as u64,
        };
        let mut d = self.defense.lock();
        let switch = d.check(&p);
        self.apply(&d, switch, Some(&p));
    }

    /// Publishes the level of `d` (whose lock the caller holds, so that switches are
    /// published and logged in the order they happened), and logs `switch`.
    fn apply(&self, d: &Defense, switch: Option<Switch>, p: Option<&Pressure>) {
        let Some(s) = switch else {
            return;
        };
        // In range: a `Level`'s value is 0..=2.
        let _ = self
            .tunables
            .defense_level
            .set(i32::from(d.level().value()));
        self.switches.store(d.switches(), Ordering::Relaxed);
        let why = match s.cause {
            Cause::MemoryLow => "available memory below amemthresh",
            Cause::TableFull => "connection table at its high watermark",
            Cause::Recovered => "memory and connection table recovered",
            Cause::Operator => "set by the operator",
        };
        match p {
            Some(p) => pr_info!(
                "defense level {} -> {} ({}; available {} pages, amemthresh {}; {} of {} entries, watermarks {}%/{}%)\n",
                s.from.value(),
                s.to.value(),
                why,
                p.available,
                p.amemthresh,
                p.used,
                p.capacity,
                p.fill_high,
                p.fill_low
            ),
            None => pr_info!(
                "defense level {} -> {} ({})\n",
                s.from.value(),
                s.to.value(),
                why
            ),
        }
    }
}

/// Runs the controller once a second.
pub(crate) struct Ticker {
    pub(crate) controller: Arc<Controller>,
    pub(crate) table: Arc<Table>,
}

impl delayed_work::Handler for Ticker {
    fn run(&self) {
        self.controller.tick(self.table.len());
    }
}
