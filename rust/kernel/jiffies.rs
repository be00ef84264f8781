// SPDX-License-Identifier: GPL-2.0

//! The kernel's tick counter, and busy waiting.
//!
//! C header: [`include/linux/jiffies.h`](srctree/include/linux/jiffies.h)

use crate::bindings;

/// Ticks per second: `CONFIG_HZ`.
///
/// Not `bindings::HZ`: bindgen takes `HZ` from the UAPI header `asm-generic/param.h`, where
/// it is `USER_HZ` (100), not the kernel's tick rate (1000 here). Timeouts computed with it
/// ran ten times too fast.
pub const HZ: u64 = bindings::CONFIG_HZ as u64;

/// The current tick count (`get_jiffies_64()`), which never wraps in practice.
pub fn now() -> u64 {
    // SAFETY: Reading the tick counter has no preconditions.
    unsafe { bindings::get_jiffies_64() }
}

/// Busy-waits `us` microseconds (`udelay`), without sleeping: usable in any context.
pub fn busy_wait_us(us: u32) {
    // SAFETY: `udelay` only spins; it has no preconditions.
    unsafe { bindings::udelay(us as _) };
}
