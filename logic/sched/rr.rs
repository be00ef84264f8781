// SPDX-License-Identifier: GPL-2.0
//! Round robin, as the kernel's `ip_vs_rr.c`: each pick takes the next server after the
//! last one picked, in list order, skipping quiesced servers (weight 0). The last one picked
//! may be picked again when it is the only server available.

use super::Dest;

/// Round robin state: the index picked last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundRobin {
    last: Option<usize>,
}

impl RoundRobin {
    /// A round robin that starts at the first server.
    pub const fn new() -> Self {
        Self { last: None }
    }

    /// The servers changed. As the kernel, the position is kept: the next pick is the one
    /// after the same index (wrapping round if the list got shorter).
    pub fn dests_changed(&mut self) {}

    /// The next server with weight > 0 after the last pick, or `None` if all are quiesced.
    pub fn pick<D: Dest>(&mut self, dests: &[D]) -> Option<usize> {
        let n = dests.len();
        let start = self.last.map_or(0, |l| l.wrapping_add(1));
        let found = (0..n)
            .map(|k| start.wrapping_add(k) % n)
            .find(|&i| dests.get(i).is_some_and(|d| d.weight() > 0))?;
        self.last = Some(found);
        Some(found)
    }
}
