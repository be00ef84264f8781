// SPDX-License-Identifier: GPL-2.0

//! Random numbers from the kernel's CRNG.
//!
//! C header: [`include/linux/random.h`](srctree/include/linux/random.h)

use crate::bindings;

/// A random `u64` (`get_random_u64()`), suitable for hash keys.
pub fn u64() -> u64 {
    // SAFETY: No preconditions; callable in any context.
    unsafe { bindings::get_random_u64() }
}
