// SPDX-License-Identifier: GPL-2.0
//! A lock-free rate limit: at most a number of events per period, counted in ticks.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Allows at most `limit` events in each period of `period` ticks, on any number of CPUs
/// at once, without a lock. A period starts with the first event after the last one ended.
pub struct RateLimit {
    limit: u32,
    period: u64,
    start: AtomicU64,
    used: AtomicU32,
}

impl RateLimit {
    /// A limit of `limit` events per `period` ticks (a `period` of 0 counts as 1).
    pub const fn new(limit: u32, period: u64) -> Self {
        Self {
            limit,
            period: if period == 0 { 1 } else { period },
            start: AtomicU64::new(0),
            used: AtomicU32::new(0),
        }
    }

    /// Whether an event at tick `now` is allowed; counts it if it is.
    pub fn allow(&self, now: u64) -> bool {
        let start = self.start.load(Ordering::Acquire);
        if now.wrapping_sub(start) >= self.period
            && self
                .start
                .compare_exchange(start, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            // This CPU opened the new period: the events of the old one no longer count.
            // An event another CPU counts between the two stores is forgiven, never lost.
            self.used.store(1, Ordering::Release);
            return self.limit > 0;
        }
        self.used.fetch_add(1, Ordering::AcqRel) < self.limit
    }
}
