// SPDX-License-Identifier: GPL-2.0
//! Known clients: source addresses that completed a real handshake, remembered for a while
//! in a fixed-size, lock-free table, so that a SYN drop rate spares returning legitimate
//! clients (Documentation/ipvs-defense.rst, "Defense").
//!
//! The caller owns the slots (`&[AtomicU64]`, a power of two in length). Each slot packs an
//! address (high 32 bits) and the second until which it is remembered (low 32 bits). An
//! address may live in one of two slots (two independent hashes); remembering it refreshes
//! its slot, or takes an empty or expired one, or else replaces the one that expires first.
//! Concurrent writers may overwrite each other's fresh entry (a client then merely goes
//! unremembered until its next handshake): the table is a cache, never wrong about an
//! address it answers for, since a slot's address and expiry are written together.
//! Spoofed sources never complete a handshake, so they never get in.

use core::sync::atomic::{AtomicU64, Ordering};

/// The known-clients table over caller-provided slots.
pub struct KnownClients<'a> {
    slots: &'a [AtomicU64],
    key: u64,
}

const fn pack(addr: u32, until: u32) -> u64 {
    ((addr as u64) << 32) | until as u64
}

const fn addr_of(v: u64) -> u32 {
    (v >> 32) as u32
}

const fn until_of(v: u64) -> u32 {
    v as u32
}

impl<'a> KnownClients<'a> {
    /// A table over `slots` (its length should be a power of two; other lengths waste the
    /// slots past the largest power of two below), hashed with `key` (random, so that
    /// nobody can aim addresses at one slot).
    pub fn new(slots: &'a [AtomicU64], key: u64) -> Self {
        Self { slots, key }
    }

    fn mask(&self) -> usize {
        match self.slots.len() {
            0 => 0,
            n => (1usize << (usize::BITS - 1 - n.leading_zeros())) - 1,
        }
    }

    fn candidates(&self, addr: u32) -> [usize; 2] {
        let h = (u64::from(addr) ^ self.key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let m = self.mask();
        [(h >> 32) as usize & m, (h as usize).rotate_left(7) & m]
    }

    /// Remembers `addr` until second `now + ttl` (`now` in seconds, any epoch that wraps
    /// only after 136 years). Does nothing for `ttl == 0`, address 0 or an empty table.
    pub fn remember(&self, addr: u32, now: u32, ttl: u32) {
        if ttl == 0 || addr == 0 || self.slots.is_empty() {
            return;
        }
        let until = now.saturating_add(ttl);
        let [a, b] = self.candidates(addr);
        let (Some(sa), Some(sb)) = (self.slots.get(a), self.slots.get(b)) else {
            return;
        };
        let (va, vb) = (sa.load(Ordering::Relaxed), sb.load(Ordering::Relaxed));
        let slot = if addr_of(va) == addr {
            sa
        } else if addr_of(vb) == addr {
            sb
        } else if until_of(va) <= until_of(vb) {
            // Empty slots hold 0, which expires first.
            sa
        } else {
            sb
        };
        slot.store(pack(addr, until), Ordering::Relaxed);
    }

    /// Whether `addr` is remembered at second `now`.
    pub fn contains(&self, addr: u32, now: u32) -> bool {
        if addr == 0 {
            return false;
        }
        self.candidates(addr).iter().any(|&i| {
            self.slots.get(i).is_some_and(|s| {
                let v = s.load(Ordering::Relaxed);
                addr_of(v) == addr && until_of(v) > now
            })
        })
    }
}
