// SPDX-License-Identifier: GPL-2.0
//! Weighted round robin, as the kernel's `ip_vs_wrr.c`.
//!
//! A *current weight* `cw` starts at the largest weight and steps down by the gcd of the
//! weights each time the scan passes the end of the list; a pick is the next server (in list
//! order, after the last pick) whose weight is at least `cw`; when `cw` would reach 0 it
//! starts again from the top. With weights 3:1 (A, B) the picks are A A A B A A A B ...;
//! with 4:3:2 they are A A B A B C A B C. Servers with weight 0 are never picked.
//!
//! Call [`WeightedRoundRobin::dests_changed`] whenever a server is added, removed or
//! re-weighted, as the kernel's `ip_vs_wrr_dest_changed` is.

use super::Dest;

/// Weighted round robin state (the kernel's `struct ip_vs_wrr_mark`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WeightedRoundRobin {
    /// The index picked last; `None` is the list head (before the first server).
    cl: Option<usize>,
    /// Current weight.
    cw: i64,
    /// Maximum weight, less `di - 1`.
    mw: i64,
    /// The gcd of the positive weights (1 if none).
    di: i64,
}

impl WeightedRoundRobin {
    /// The state for the servers `dests` (`ip_vs_wrr_init_svc`).
    pub fn new<D: Dest>(dests: &[D]) -> Self {
        let di = gcd_weight(dests);
        let mw = max_weight(dests) - (di - 1);
        Self {
            cl: None,
            cw: mw,
            mw,
            di,
        }
    }

    /// The servers changed (`ip_vs_wrr_dest_changed`): back to the list head, with the gcd
    /// and maximum recomputed and the current weight kept where still valid.
    pub fn dests_changed<D: Dest>(&mut self, dests: &[D]) {
        self.cl = None;
        self.di = gcd_weight(dests);
        self.mw = max_weight(dests) - (self.di - 1);
        if self.cw > self.mw || self.cw == 0 {
            self.cw = self.mw;
        } else if self.di > 1 {
            self.cw = (self.cw / self.di) * self.di + 1;
        }
    }

    /// The next server (`ip_vs_wrr_schedule`), or `None` when every weight is 0.
    pub fn pick<D: Dest>(&mut self, dests: &[D]) -> Option<usize> {
        if self.mw <= 0 {
            return None;
        }
        let last = self.cl;
        let mut stop: Option<usize> = None;
        let mut last_pass = false;
        let mut restarted = false;
        let mut pos = self.cl;
        // Terminates: di ≥ 1 lowers cw on every pass; the second time cw drops to 0 or
        // below (or the first, when the scan began at the head), the pick fails.
        loop {
            let start = pos.map_or(0, |p| p.wrapping_add(1));
            for (i, d) in dests.iter().enumerate().skip(start) {
                if i64::from(d.weight()) >= self.cw {
                    self.cl = Some(i);
                    return Some(i);
                }
                if stop == Some(i) {
                    self.cl = Some(i);
                    return None;
                }
            }
            pos = None;
            self.cw -= self.di;
            if self.cw <= 0 {
                self.cw = self.mw;
                if last_pass || last.is_none() {
                    self.cl = None;
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                // The first pass at weight ≥ 1 covered only the servers after `last`;
                // now do the same for the servers up to it.
                stop = last;
            }
        }
    }
}

/// The gcd of the positive weights, 1 if there is none (`ip_vs_wrr_gcd_weight`).
fn gcd_weight<D: Dest>(dests: &[D]) -> i64 {
    let g = dests
        .iter()
        .map(|d| i64::from(d.weight()))
        .filter(|&w| w > 0)
        .fold(0, gcd);
    if g > 0 {
        g
    } else {
        1
    }
}

/// The largest weight, 0 for an empty list.
fn max_weight<D: Dest>(dests: &[D]) -> i64 {
    dests
        .iter()
        .map(|d| i64::from(d.weight()))
        .max()
        .unwrap_or(0)
}

/// Greatest common divisor of two non-negative numbers (`gcd(0, w) = w`).
pub fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a, b);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
