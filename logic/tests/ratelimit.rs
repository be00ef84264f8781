// SPDX-License-Identifier: GPL-2.0
//! The lock-free rate limit: the limit per period, periods that restart, and threads.

use ipvsd_logic::ratelimit::RateLimit;
use std::sync::atomic::{AtomicU32, Ordering};

#[test]
fn allows_the_limit_per_period_then_refuses() {
    let r = RateLimit::new(5, 100);
    let now = 1_000;
    let allowed = (0..20).filter(|_| r.allow(now)).count();
    assert_eq!(allowed, 5);
    assert!(!r.allow(now + 99), "still the same period");
    assert!(r.allow(now + 100), "a new period");
    assert_eq!((0..20).filter(|_| r.allow(now + 150)).count(), 4);
}

#[test]
fn a_limit_of_zero_allows_nothing() {
    let r = RateLimit::new(0, 10);
    assert!((0..100u64).all(|t| !r.allow(t * 7)));
}

#[test]
fn many_threads_never_exceed_the_limit_in_one_period() {
    let r = RateLimit::new(1000, u64::MAX / 2);
    assert!(r.allow(u64::MAX / 2), "the first event opens the period");
    let ok = AtomicU32::new(1);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..10_000 {
                    if r.allow(u64::MAX / 2) {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(ok.load(Ordering::Relaxed), 1000);
}
