// SPDX-License-Identifier: GPL-2.0
//! How big the connection table is, how it is cut into shards, and what it costs per entry.
//!
//! The table is allocated once, when the module loads, for a capacity that follows RAM
//! ([`capacity_for`]): 1/256 of it at [`BYTES_PER_ENTRY_MAX`] an entry. Its [`Layout`]
//! cuts it into up to [`MAX_SHARDS`] shards of at least [`MIN_SHARD_ENTRIES`] entries, each
//! with room for its share plus four standard deviations of an even hash's spread, and one
//! hash bucket per two slots. [`table_bytes`] is everything that allocates: per shard, the
//! per-slot arrays ([`SLOT_ARRAYS`]) and the two arrays of chain heads, each rounded up to
//! whole pages (they are vmalloc'd), and the shard itself (kmalloc'd, a power of two);
//! then the table's own arrays of shards. Over the capacity that is at most
//! [`BYTES_PER_ENTRY_MAX`] for every capacity the table can have (tested on the host; the
//! director checks that its types have the sizes used here).

use crate::logic::entry::Entry;

/// The bound on the table's bytes per entry of capacity, all of it counted.
pub const BYTES_PER_ENTRY_MAX: u64 = 128;
/// The smallest capacity the table is allocated with.
pub const MIN_CAPACITY: u32 = 4096;
/// The largest capacity the table is allocated with.
pub const MAX_CAPACITY: u32 = 1 << 22;
/// The most shards a table has (each with its own lock).
pub const MAX_SHARDS: u32 = 64;
/// A table has fewer shards rather than shards of fewer entries than this (so that the
/// slack for the hash's spread, and each shard's fixed part, stay small beside it).
pub const MIN_SHARD_ENTRIES: u32 = 4096;

/// Bytes per slot of each per-slot array of a shard: the entry, the reference to its real
/// server's counters (one pointer), its half-open record (slot and sequence number), and
/// the sequence number of its live half-open record.
pub const SLOT_ARRAYS: [usize; 4] = [core::mem::size_of::<Entry>(), 8, 8, 4];
/// Bytes per bucket of each array of chain heads (inbound, outbound): an entry index.
pub const BUCKET_ARRAYS: [usize; 2] = [4, 4];
/// An upper bound of a shard's own structure (its lock, wheel, queue and free list), as
/// allocated: kmalloc rounds it up to a power of two.
pub const SHARD_STRUCT_MAX: u64 = 4096;
/// Bytes per shard in the table's own arrays: the shard's pointer and its oldest
/// half-open entry's time.
const TABLE_PER_SHARD: u64 = 16;
/// An upper bound of the table's own structure and its arrays' allocation rounding.
const TABLE_STRUCT_MAX: u64 = 2048;
const PAGE: u64 = 4096;

/// How a table of some capacity is cut: `shards` shards of `slots` slots and `buckets`
/// hash buckets each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Number of shards: a power of two, at most [`MAX_SHARDS`].
    pub shards: u32,
    /// Slots per shard.
    pub slots: u32,
    /// Hash buckets per shard (per chain).
    pub buckets: u32,
}

/// The capacity of the table on a machine with `total_pages` pages of 4 KiB of RAM: 1/256
/// of RAM at [`BYTES_PER_ENTRY_MAX`] an entry, within [`MIN_CAPACITY`]..=[`MAX_CAPACITY`].
pub const fn capacity_for(total_pages: u64) -> u32 {
    let n = total_pages.saturating_mul(PAGE) / 256 / BYTES_PER_ENTRY_MAX;
    clamp(if n > u32::MAX as u64 {
        u32::MAX
    } else {
        n as u32
    })
}

/// The layout of a table of `capacity` entries (clamped to the allocated range).
pub const fn layout(capacity: u32) -> Layout {
    let capacity = clamp(capacity);
    let mut shards = MAX_SHARDS;
    while shards > 1 && capacity / shards < MIN_SHARD_ENTRIES {
        shards /= 2;
    }
    let share = capacity.div_ceil(shards);
    // A keyed hash spreads the entries as a multinomial: a shard's load at a full table
    // is its share give or take sqrt(share); four of those make a full shard before a
    // full table unlikely (about 3 in 100,000 per shard).
    let slots = share + 4 * isqrt(share) + 16;
    Layout {
        shards,
        slots,
        buckets: slots.div_ceil(2),
    }
}

/// Everything a table of layout `l` allocates, in bytes (see the module documentation).
pub const fn table_bytes(l: Layout) -> u64 {
    let mut shard = SHARD_STRUCT_MAX + TABLE_PER_SHARD;
    let mut i = 0;
    while i < SLOT_ARRAYS.len() {
        shard += pages(l.slots as u64 * SLOT_ARRAYS[i] as u64);
        i += 1;
    }
    let mut i = 0;
    while i < BUCKET_ARRAYS.len() {
        shard += pages(l.buckets as u64 * BUCKET_ARRAYS[i] as u64);
        i += 1;
    }
    l.shards as u64 * shard + TABLE_STRUCT_MAX
}

/// The table's bytes per entry of capacity, rounded up.
pub const fn bytes_per_entry(capacity: u32) -> u64 {
    let capacity = clamp(capacity);
    table_bytes(layout(capacity)).div_ceil(capacity as u64)
}

/// `capacity` within [`MIN_CAPACITY`]..=[`MAX_CAPACITY`].
pub const fn clamp(capacity: u32) -> u32 {
    if capacity < MIN_CAPACITY {
        MIN_CAPACITY
    } else if capacity > MAX_CAPACITY {
        MAX_CAPACITY
    } else {
        capacity
    }
}

/// `n` bytes rounded up to whole pages.
const fn pages(n: u64) -> u64 {
    n.div_ceil(PAGE) * PAGE
}

/// The integer square root of `n` (the largest `r` with `r * r <= n`).
pub const fn isqrt(n: u32) -> u32 {
    let n = n as u64;
    // Newton's method from above: starts at n (or 1) and decreases to the root.
    let mut r = if n < 2 { n } else { n / 2 + 1 };
    while r * r > n {
        r = (r + n / r) / 2;
    }
    r as u32
}
