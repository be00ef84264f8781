// SPDX-License-Identifier: GPL-2.0
//! The table's sizing: capacity from RAM, the layout, and the bound on bytes per entry.

use ipvsd_logic::sizing::{
    bytes_per_entry, capacity_for, isqrt, layout, table_bytes, BYTES_PER_ENTRY_MAX, MAX_CAPACITY,
    MAX_SHARDS, MIN_CAPACITY, MIN_SHARD_ENTRIES, SLOT_ARRAYS,
};

#[test]
fn isqrt_is_the_floor_of_the_root() {
    for n in (0..100_000u32).chain([u32::MAX - 1, u32::MAX, 1 << 22, (1 << 22) - 1]) {
        let r = isqrt(n) as u64;
        assert!(
            r * r <= n as u64 && (r + 1) * (r + 1) > n as u64,
            "isqrt({n}) = {r}"
        );
    }
}

#[test]
fn capacity_is_a_256th_of_ram_at_the_bound_per_entry() {
    // 4 GiB: 16 MiB for the table, 131072 entries of 128 bytes.
    assert_eq!(capacity_for(1 << 20), 131_072);
    assert_eq!(capacity_for(0), MIN_CAPACITY);
    assert_eq!(capacity_for(u64::MAX), MAX_CAPACITY);
}

/// Every capacity the table can be allocated with, from the smallest to the largest.
fn capacities() -> impl Iterator<Item = u32> {
    // All of them up to 300,000 (where the layout's steps are), then a stride.
    (MIN_CAPACITY..300_000)
        .chain((300_000..=MAX_CAPACITY).step_by(997))
        .chain([MAX_CAPACITY])
}

#[test]
fn every_capacity_costs_at_most_the_bound_per_entry() {
    let mut worst = (0, 0);
    for c in capacities() {
        let b = bytes_per_entry(c);
        if b > worst.1 {
            worst = (c, b);
        }
    }
    assert!(
        worst.1 <= BYTES_PER_ENTRY_MAX,
        "a table of {} entries takes {} bytes per entry (bound {BYTES_PER_ENTRY_MAX})",
        worst.0,
        worst.1
    );
}

#[test]
fn layout_holds_the_capacity_with_slack_and_a_bucket_per_two_slots() {
    for c in capacities() {
        let l = layout(c);
        assert!(
            l.shards.is_power_of_two() && l.shards <= MAX_SHARDS,
            "{c}: {l:?}"
        );
        // As many shards as leave each its minimum share.
        assert!(
            l.shards == 1 || c / l.shards >= MIN_SHARD_ENTRIES,
            "{c}: {l:?}"
        );
        assert!(l.shards == MAX_SHARDS || c / (2 * l.shards) < MIN_SHARD_ENTRIES);
        let share = c.div_ceil(l.shards);
        // Four standard deviations of slack, at least.
        assert!(l.slots >= share + 4 * isqrt(share), "{c}: {l:?}");
        assert_eq!(l.buckets, l.slots.div_ceil(2), "{c}: {l:?}");
        let slot: usize = SLOT_ARRAYS.iter().sum();
        assert!(table_bytes(l) >= l.shards as u64 * l.slots as u64 * slot as u64);
    }
}
