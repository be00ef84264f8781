// SPDX-License-Identifier: GPL-2.0

//! `/proc/sys/net/ipvs_defense/`: the tunables and read-only counters.

use super::hooks::{HookStats, Which};
use crate::logic::sysctl::{format_value, parse_write, IntRange};
use core::sync::atomic::{AtomicI32, Ordering};
use kernel::{
    c_str,
    prelude::*,
    sync::Arc,
    sysctl::{Entry, Registration, Value},
};

/// An integer tunable with an inclusive range. A write outside the range, or of anything
/// but a decimal integer, fails with `EINVAL` and keeps the old value.
pub(crate) struct RangedInt {
    value: AtomicI32,
    range: IntRange,
}

impl RangedInt {
    const fn new(default: i32, min: i32, max: i32) -> Self {
        Self {
            value: AtomicI32::new(default),
            range: IntRange::new(min as i64, max as i64),
        }
    }

    /// The current value.
    pub(crate) fn get(&self) -> i32 {
        self.value.load(Ordering::Relaxed)
    }

    /// Sets the value from inside the module (netlink); `EINVAL` outside the range.
    pub(crate) fn set(&self, v: i32) -> Result {
        if !self.range.contains(i64::from(v)) {
            return Err(EINVAL);
        }
        self.value.store(v, Ordering::Relaxed);
        Ok(())
    }
}

impl Value for RangedInt {
    fn show(&self, out: &mut [u8]) -> usize {
        format_value(i64::from(self.get()), out).unwrap_or(usize::MAX)
    }

    fn store(&self, input: &[u8]) -> Result {
        match parse_write(input, self.range) {
            Ok(Some(v)) => {
                // In range, and every range fits an i32 (see `new`).
                self.value.store(v as i32, Ordering::Relaxed);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(_) => Err(EINVAL),
        }
    }
}

/// `defense_level`: 0 automatic (calm), 1 engaged, 2 forced (DESIGN.md §5).
pub(crate) static DEFENSE_LEVEL: RangedInt = RangedInt::new(0, 0, 2);
/// `amemthresh`: pages of available memory below which level 0 engages (0 = never).
pub(crate) static AMEMTHRESH: RangedInt = RangedInt::new(2560, 0, i32::MAX);
/// `syn_drop_rate`: 0 automatic, N drops one new-connection SYN in N while engaged.
pub(crate) static SYN_DROP_RATE: RangedInt = RangedInt::new(0, 0, i32::MAX);

/// What a read-only counter file shows.
#[derive(Clone, Copy)]
enum Field {
    Packets(Which),
    Bytes(Which),
}

struct HookCounter {
    stats: Arc<HookStats>,
    field: Field,
}

impl Value for HookCounter {
    fn show(&self, out: &mut [u8]) -> usize {
        let v = match self.field {
            Field::Packets(w) => self.stats.get(w).packets,
            Field::Bytes(w) => self.stats.get(w).bytes,
        };
        format_value(i64::try_from(v).unwrap_or(i64::MAX), out).unwrap_or(usize::MAX)
    }

    fn store(&self, _input: &[u8]) -> Result {
        Err(EPERM)
    }
}

fn counter(name: &'static CStr, stats: &Arc<HookStats>, field: Field) -> Result<Entry> {
    let v = Arc::new(
        HookCounter {
            stats: Arc::clone(stats),
            field,
        },
        GFP_KERNEL,
    )?;
    Ok(Entry::read_only_shared(name, v))
}

/// Registers the table.
pub(crate) fn register(stats: &Arc<HookStats>) -> Result<Registration> {
    let mut e = KVec::new();
    for (name, value) in [
        (c_str!("defense_level"), &DEFENSE_LEVEL),
        (c_str!("amemthresh"), &AMEMTHRESH),
        (c_str!("syn_drop_rate"), &SYN_DROP_RATE),
    ] {
        e.push(Entry::read_write(name, value), GFP_KERNEL)?;
    }
    for (name, field) in [
        (c_str!("local_in_packets"), Field::Packets(Which::LocalIn)),
        (c_str!("local_in_bytes"), Field::Bytes(Which::LocalIn)),
        (c_str!("forward_packets"), Field::Packets(Which::Forward)),
        (c_str!("forward_bytes"), Field::Bytes(Which::Forward)),
    ] {
        e.push(counter(name, stats, field)?, GFP_KERNEL)?;
    }
    Registration::register(c_str!("net/ipvs_defense"), e)
}
