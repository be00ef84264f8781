// SPDX-License-Identifier: GPL-2.0

//! A spinlock that also disables bottom halves (softirqs) while held.
//!
//! 6.12's [`SpinLock`](super::spinlock::SpinLock) takes `spin_lock()`. Data shared between a
//! netfilter hook (softirq context) and process context (sysctl handlers, netlink, a sweeper
//! running as work) must be locked with `spin_lock_bh()` in process context, or a softirq
//! arriving on the same CPU while the lock is held deadlocks on it (lockdep reports this as
//! "inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage"). Taking the `_bh` variant in
//! softirq context too is harmless, so this backend is used from both.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use crate::bindings;

/// Creates a [`SpinLockBh`] initialiser with the given name and a newly-created lock class.
///
/// It uses the name if one is given, otherwise it generates one based on the file name and
/// line number.
#[macro_export]
macro_rules! new_spinlock_bh {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::sync::lock::Lock::<_, $crate::sync::lock::spinlock_bh::SpinLockBhBackend>::new(
            $inner, $crate::optional_name!($($name)?), $crate::static_lock_class!())
    };
}
pub use new_spinlock_bh;

/// A spinlock held with bottom halves disabled.
///
/// Exposes the kernel's `spinlock_t` taken with `spin_lock_bh()`/`spin_unlock_bh()`. It may
/// be locked from process context and from softirq context (for example a netfilter hook);
/// the guard must not be held across anything that sleeps.
///
/// # Examples
///
/// ```
/// use kernel::sync::{new_spinlock_bh, SpinLockBh};
///
/// let counts = KBox::pin_init(new_spinlock_bh!(0u64), GFP_KERNEL)?;
/// *counts.lock() += 1;
/// assert_eq!(*counts.lock(), 1);
/// # Ok::<(), Error>(())
/// ```
pub type SpinLockBh<T> = super::Lock<T, SpinLockBhBackend>;

/// A kernel `spinlock_t` lock backend that disables bottom halves while the lock is held.
pub struct SpinLockBhBackend;

// SAFETY: The underlying kernel `spinlock_t` object ensures mutual exclusion. `relock` uses the
// default implementation that always calls the same locking method.
unsafe impl super::Backend for SpinLockBhBackend {
    type State = bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const crate::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: The safety requirements ensure that `ptr` is valid for writes, and `name` and
        // `key` are valid for read indefinitely.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        unsafe { bindings::spin_lock_bh(ptr) }
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The safety requirements of this function ensure that `ptr` is valid and that
        // the caller is the owner of the spinlock, which it took with `spin_lock_bh()`.
        unsafe { bindings::spin_unlock_bh(ptr) }
    }
}
