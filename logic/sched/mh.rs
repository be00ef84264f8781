// SPDX-License-Identifier: GPL-2.0
//! Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
//! Balancer", NSDI 2016), as the `mh` scheduler.
//!
//! A lookup table of prime size `M` (65537 by default) maps a hash of the client's source to
//! a server. Each server gets a permutation of the table's slots from two hashes of its
//! identity (address and port): `offset = h1 mod M`, `skip = h2 mod (M - 1) + 1`, slot
//! `j` of its permutation being `(offset + j × skip) mod M`. The table is filled in rounds:
//! in each round every server in turn claims the next slot of its permutation that is still
//! free, until all `M` slots are taken.
//!
//! Properties the tests check:
//! - **Deterministic**: the hashes use fixed keys and the servers are taken in the order of
//!   their (address, port), so two directors with the same servers and weights build
//!   identical tables, whatever order the servers were added in. Directors behind ECMP thus
//!   agree without sharing state.
//! - **Minimal disruption**: removing one of `N` servers moves its `M / N` slots and only a
//!   few others (the README gives the measured numbers).
//! - **Weights**: a server of weight `w` claims a slot in round `r` when
//!   `floor(r × w / W)` grows (`W` = the largest weight), so after any round its slot count
//!   is within one of `M × w / Σw`. Servers of weight 0 (quiesced) get no slot.
//!
//! The caller owns the memory: the table (`&mut [u16]` of length `M`, entries are indices
//! into the server list, [`EMPTY`] for none) and a scratch slice of one [`Perm`] per server.

use super::super::hash::{siphash24, SipKey};
use super::super::sort::sort_by_key;
use super::Dest;

/// The default table size: a prime.
pub const DEFAULT_TABLE_SIZE: usize = 65_537;
/// The largest table size accepted.
pub const MAX_TABLE_SIZE: usize = 1 << 24;
/// A table slot with no server.
pub const EMPTY: u16 = u16::MAX;
/// The most servers a table can refer to (indices `0..MAX_DESTS`).
pub const MAX_DESTS: usize = EMPTY as usize;

/// Fixed key of the first server hash (the permutation's offset). Changing any of the
/// three keys changes every director's table: they are part of the on-the-wire behaviour.
const OFFSET_KEY: SipKey = SipKey::new(0x6d61_676c_6576_2d31, 0x6970_7673_2d64_6566);
/// Fixed key of the second server hash (the permutation's skip).
const SKIP_KEY: SipKey = SipKey::new(0x6d61_676c_6576_2d32, 0x6970_7673_2d64_6566);
/// Fixed key of the client source hash.
const SOURCE_KEY: SipKey = SipKey::new(0x6d61_676c_6576_2d73, 0x6970_7673_2d64_6566);

/// Why a table could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MhError {
    /// The table's length is not a prime (or is below 2).
    NotPrime,
    /// The table is longer than [`MAX_TABLE_SIZE`].
    TooLarge,
    /// More servers with weight > 0 than the scratch slice holds, or than [`MAX_DESTS`].
    TooManyDests,
}

/// One server's progress through its permutation while a table is built (scratch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Perm {
    /// The server's (address, port), the order servers are taken in.
    id: u64,
    /// Its index in the caller's list.
    dest: u16,
    /// Its weight.
    weight: u32,
    /// The next slot of its permutation to try.
    next: u32,
    /// The permutation's step.
    skip: u32,
}

/// Builds the lookup `table` (length `M`, a prime) for the servers `dests`. Returns how many
/// servers got slots (those with weight > 0); with none, every slot is [`EMPTY`].
pub fn populate<D: Dest>(
    dests: &[D],
    table: &mut [u16],
    scratch: &mut [Perm],
) -> Result<usize, MhError> {
    let m = table.len();
    if m > MAX_TABLE_SIZE {
        return Err(MhError::TooLarge);
    }
    if !is_prime(m as u64) {
        return Err(MhError::NotPrime);
    }
    // m ≤ 2^24: the casts below are lossless.
    let m = m as u32;
    let mut k = 0;
    for (i, d) in dests.iter().enumerate() {
        if d.weight() == 0 {
            continue;
        }
        let (Some(p), Ok(dest)) = (scratch.get_mut(k), u16::try_from(i)) else {
            return Err(MhError::TooManyDests);
        };
        if dest == EMPTY {
            return Err(MhError::TooManyDests);
        }
        let id = dest_id(d.addr(), d.port());
        let bytes = id.to_be_bytes();
        *p = Perm {
            id,
            dest,
            weight: d.weight(),
            next: (siphash24(OFFSET_KEY, &bytes) % u64::from(m)) as u32,
            skip: (siphash24(SKIP_KEY, &bytes) % u64::from(m - 1)) as u32 + 1,
        };
        k += 1;
    }
    table.fill(EMPTY);
    let perms = scratch.get_mut(..k).unwrap_or_default();
    sort_by_key(perms, |p| (p.id, p.dest));
    let max_w = u64::from(perms.iter().map(|p| p.weight).max().unwrap_or(0));
    if max_w == 0 {
        return Ok(0);
    }
    let mut filled: u32 = 0;
    // The largest weight claims a slot every round: at most m rounds.
    for round in 1..=u64::from(m) {
        for p in perms.iter_mut() {
            let w = u64::from(p.weight);
            if (round * w) / max_w == ((round - 1) * w) / max_w {
                continue;
            }
            claim(table, p, m);
            filled += 1;
            if filled == m {
                return Ok(k);
            }
        }
    }
    Ok(k)
}

/// Claims the next free slot of `p`'s permutation. The permutation visits every slot (`m`
/// prime, `1 ≤ skip < m`), so one is found within `m` steps whenever one is free.
fn claim(table: &mut [u16], p: &mut Perm, m: u32) {
    for _ in 0..m {
        let c = p.next;
        // next + skip < 2m ≤ 2^25: no overflow.
        p.next = (p.next + p.skip) % m;
        if let Some(slot) = table.get_mut(c as usize) {
            if *slot == EMPTY {
                *slot = p.dest;
                return;
            }
        }
    }
}

/// A server's identity: `addr << 16 | port`.
fn dest_id(addr: u32, port: u16) -> u64 {
    (u64::from(addr) << 16) | u64::from(port)
}

/// The hash a client is looked up by: its source address, and its source port too when
/// the service hashes ports (pass 0 otherwise). The same on every director.
pub fn source_hash(addr: u32, port: u16) -> u64 {
    siphash24(SOURCE_KEY, &dest_id(addr, port).to_be_bytes())
}

/// The server index in slot `hash mod M`, if any.
pub fn lookup(table: &[u16], hash: u64) -> Option<usize> {
    let m = table.len() as u64;
    let slot = hash.checked_rem(m)?;
    let d = *table.get(slot as usize)?;
    (d != EMPTY).then_some(usize::from(d))
}

/// The server for a client with source hash `hash`: the table's choice, or, when that
/// server is gone or quiesced (weight 0) since the table was built, the next slot's server
/// that is available (as the kernel's `ip_vs_mh_get_fallback`, by linear probing so that
/// directors still agree). `None` when no server has weight > 0.
pub fn pick<D: Dest>(table: &[u16], dests: &[D], hash: u64) -> Option<usize> {
    let available = |i: usize| dests.get(i).is_some_and(|d| d.weight() > 0);
    if let Some(i) = lookup(table, hash) {
        if available(i) {
            return Some(i);
        }
    }
    if !dests.iter().any(|d| d.weight() > 0) {
        return None;
    }
    let m = table.len() as u64;
    let start = hash.checked_rem(m)?;
    (1..m)
        .map(|k| (start + k) % m)
        .filter_map(|slot| table.get(slot as usize))
        .map(|&d| usize::from(d))
        .find(|&i| i != usize::from(EMPTY) && available(i))
}

/// Whether `n` is prime (trial division; `n` up to [`MAX_TABLE_SIZE`] takes at most 2048
/// steps).
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2u64;
    while d.saturating_mul(d) <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}
