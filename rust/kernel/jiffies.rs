// SPDX-License-Identifier: GPL-2.0

//! The kernel's tick counter.
//!
//! C header: [`include/linux/jiffies.h`](srctree/include/linux/jiffies.h)

use crate::bindings;

/// Ticks per second.
pub const HZ: u64 = bindings::HZ as u64;

/// The current tick count (`get_jiffies_64()`), which never wraps in practice.
pub fn now() -> u64 {
    // SAFETY: Reading the tick counter has no preconditions.
    unsafe { bindings::get_jiffies_64() }
}
