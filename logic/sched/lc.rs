// SPDX-License-Identifier: GPL-2.0
//! Least connections (`ip_vs_lc.c`) and weighted least connections (`ip_vs_wlc.c`).
//!
//! A server's load is its *overhead* `active × 256 + inactive`, as in the kernel: an
//! established connection costs much more than one in TIME_WAIT or SYN_RECV. Servers with
//! weight 0 are skipped. Ties go to the first server in list order.

use super::Dest;

/// The kernel's connection overhead of a server: `active × 256 + inactive`.
pub fn overhead<D: Dest>(d: &D) -> u64 {
    (u64::from(d.active_conns()) << 8).saturating_add(u64::from(d.inactive_conns()))
}

/// Least connections: the server with weight > 0 and the smallest overhead.
pub fn pick_lc<D: Dest>(dests: &[D]) -> Option<usize> {
    let mut least: Option<(usize, u64)> = None;
    for (i, d) in dests.iter().enumerate() {
        if d.weight() == 0 {
            continue;
        }
        let oh = overhead(d);
        if least.map_or(true, |(_, loh)| oh < loh) {
            least = Some((i, oh));
        }
    }
    least.map(|(i, _)| i)
}

/// Weighted least connections: the server with weight > 0 and the smallest
/// `overhead / weight`, compared exactly as `overhead_a × weight_b < overhead_b × weight_a`.
pub fn pick_wlc<D: Dest>(dests: &[D]) -> Option<usize> {
    let mut least: Option<(usize, u64, u32)> = None;
    for (i, d) in dests.iter().enumerate() {
        let w = d.weight();
        if w == 0 {
            continue;
        }
        let oh = overhead(d);
        let better = match least {
            None => true,
            // Widening multiplications (below 2^41 × 2^32: they cannot wrap), written as
            // wrapping so that no 128-bit overflow check is compiled in.
            Some((_, loh, lw)) => {
                u128::from(loh).wrapping_mul(u128::from(w))
                    > u128::from(oh).wrapping_mul(u128::from(lw))
            }
        };
        if better {
            least = Some((i, oh, w));
        }
    }
    least.map(|(i, _, _)| i)
}
