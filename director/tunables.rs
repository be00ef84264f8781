// SPDX-License-Identifier: GPL-2.0

//! The director's tunables: one value the `Director` owns and hands to the data path, the
//! controller and the netlink family (as IPVS keeps its settings in `netns_ipvs`).
//! `sysctls.rs` shows them as files of `/proc/sys/net/ipvs_defense/`; the design document
//! (Documentation/ipvs-defense.rst, "Tunables") says what each one does.

use crate::logic::{
    sysctl::IntRange,
    timeouts::{TimeoutRow, Timeouts, MAX_SECS, MIN_SECS, ROW_COUNT},
};
use core::sync::atomic::{AtomicI32, Ordering};
use kernel::prelude::*;

/// An integer tunable with an inclusive range; a value outside it is refused with `EINVAL`
/// and the old one kept.
pub(crate) struct RangedInt {
    value: AtomicI32,
    min: i32,
    max: i32,
}

impl RangedInt {
    const fn new(default: i32, min: i32, max: i32) -> Self {
        Self {
            value: AtomicI32::new(default),
            min,
            max,
        }
    }

    /// The values it accepts.
    pub(crate) fn range(&self) -> IntRange {
        IntRange::new(self.min.into(), self.max.into())
    }

    /// The current value.
    pub(crate) fn get(&self) -> i32 {
        self.value.load(Ordering::Relaxed)
    }

    /// Sets the value; `EINVAL` outside the range.
    pub(crate) fn set(&self, v: i32) -> Result {
        if !self.range().contains(i64::from(v)) {
            return Err(EINVAL);
        }
        self.value.store(v, Ordering::Relaxed);
        Ok(())
    }
}

/// Every tunable, named as its sysctl.
pub(crate) struct Tunables {
    /// 0 automatic (calm), 1 engaged, 2 forced. Only the controller sets it.
    pub(crate) defense_level: RangedInt,
    /// Pages of available memory below which level 0 engages (0: never switch).
    pub(crate) amemthresh: RangedInt,
    /// The table's fill, percent of `conn_max`, at which level 0 engages (0: never).
    pub(crate) table_fill_high: RangedInt,
    /// The fill below which level 1 may return to 0 (used as at most `table_fill_high - 1`).
    pub(crate) table_fill_low: RangedInt,
    /// 0 automatic, N drops one new-connection SYN in N while engaged.
    pub(crate) syn_drop_rate: RangedInt,
    /// Seconds a client that completed a real handshake is remembered (0: never).
    pub(crate) known_client_ttl: RangedInt,
    /// 1 re-creates the entry of a real server's packet that has none, when that server
    /// address:port belongs to exactly one service.
    pub(crate) resurrect: RangedInt,
    /// The table's bound, at most the capacity allocated at load.
    pub(crate) conn_max: RangedInt,
    /// When the SYN proxy answers services' SYNs: 0 never, 1 while engaged, 2 always.
    pub(crate) syn_proxy: RangedInt,
    /// `timeout_<state>`, seconds, in `TimeoutRow::index` order.
    pub(crate) timeouts: [RangedInt; ROW_COUNT],
    /// `defense_timeout_<state>`, used while defense is engaged.
    pub(crate) defense_timeouts: [RangedInt; ROW_COUNT],
}

const fn timeout_values(t: &Timeouts) -> [RangedInt; ROW_COUNT] {
    let mut out = [const { RangedInt::new(1, MIN_SECS as i32, MAX_SECS as i32) }; ROW_COUNT];
    let mut i = 0;
    while i < ROW_COUNT {
        out[i] = RangedInt::new(t.secs[i] as i32, MIN_SECS as i32, MAX_SECS as i32);
        i += 1;
    }
    out
}

impl Tunables {
    /// The defaults, for a table of `capacity` entries.
    pub(crate) fn new(capacity: u32) -> Self {
        let capacity = i32::try_from(capacity).unwrap_or(i32::MAX);
        Self {
            defense_level: RangedInt::new(0, 0, 2),
            amemthresh: RangedInt::new(2560, 0, i32::MAX),
            table_fill_high: RangedInt::new(90, 0, 100),
            table_fill_low: RangedInt::new(70, 0, 100),
            syn_drop_rate: RangedInt::new(0, 0, i32::MAX),
            known_client_ttl: RangedInt::new(300, 0, MAX_SECS as i32),
            resurrect: RangedInt::new(0, 0, 1),
            conn_max: RangedInt::new(capacity, 1, capacity),
            syn_proxy: RangedInt::new(0, 0, 2),
            timeouts: timeout_values(&Timeouts::NORMAL),
            defense_timeouts: timeout_values(&Timeouts::DEFENSE),
        }
    }

    /// The timeouts in force: the defense set while defense is `engaged`.
    pub(crate) fn timeouts(&self, engaged: bool) -> TimeoutSet<'_> {
        TimeoutSet {
            secs: if engaged {
                &self.defense_timeouts
            } else {
                &self.timeouts
            },
            engaged,
        }
    }
}

/// One set of timeouts, and whether it is the defense's.
#[derive(Clone, Copy)]
pub(crate) struct TimeoutSet<'a> {
    secs: &'a [RangedInt; ROW_COUNT],
    pub(crate) engaged: bool,
}

impl TimeoutSet<'_> {
    /// The timeout of `row`, in seconds (at least 1).
    pub(crate) fn secs(&self, row: TimeoutRow) -> u64 {
        self.secs
            .get(row.index())
            .map_or(60, |v| v.get().max(1) as u64)
    }
}
