// SPDX-License-Identifier: GPL-2.0

//! Faults the guest tests inject, in a build made for them with `--cfg ipvsd_fault_NAME`
//! (scripts/module.sh `FAULTS=`); in a normal build there are none and these functions do
//! nothing.

use kernel::prelude::*;

/// `init`: the module's init fails at its last registration, after every other one
/// succeeded, so that the error path unwinds all of them.
pub(crate) fn last_registration() -> Result {
    if cfg!(ipvsd_fault_init) {
        return Err(ENODEV);
    }
    Ok(())
}

/// `slow_hook` (and `init`): every hook call first spins for a millisecond, so that an
/// unload or a failed init overlaps hooks running on another CPU.
pub(crate) fn slow_hook() {
    if cfg!(any(ipvsd_fault_slow_hook, ipvsd_fault_init)) {
        kernel::jiffies::busy_wait_us(1000);
    }
}

/// `rewrite`: every rewrite of a packet's headers fails as when the host cannot allocate,
/// so that the guest tests see the drop counted.
pub(crate) fn rewrite() -> Result {
    if cfg!(ipvsd_fault_rewrite) {
        return Err(ENOMEM);
    }
    Ok(())
}

/// `leak`: the module's init allocates 64 bytes and forgets them, so that the guest tests'
/// kmemleak check can be seen to catch a leak.
pub(crate) fn leak_one() -> Result {
    if cfg!(ipvsd_fault_leak) {
        core::mem::forget(KBox::new([0u8; 64], GFP_KERNEL)?);
    }
    Ok(())
}
