// SPDX-License-Identifier: GPL-2.0

//! Read-copy-update: readers that never block writers, writers that publish a new version
//! and free the old one after a grace period.
//!
//! [`RcuBox`] holds one heap value that readers on any CPU, in any context (netfilter hooks
//! included), read under a [`Guard`] without taking a lock, and that writers in process
//! context replace as a whole.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use crate::{bindings, new_mutex, prelude::*, sync::Mutex};
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicPtr, Ordering},
};

/// An RCU read-side critical section: `rcu_read_lock()` until dropped.
///
/// It must not be held across anything that sleeps; it is not `Send`, so it is released on
/// the CPU context that took it.
pub struct Guard(PhantomData<*mut ()>);

/// Enters an RCU read-side critical section. Nesting is allowed (netfilter hooks already run
/// inside one).
pub fn read_lock() -> Guard {
    // SAFETY: `rcu_read_lock` may be called in any context; the matching unlock is in `drop`.
    unsafe { bindings::rcu_read_lock() };
    Guard(PhantomData)
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: `self` was created by `read_lock`, which took the read lock on this context.
        unsafe { bindings::rcu_read_unlock() };
    }
}

/// Waits until every RCU read-side critical section that was running has ended. Sleeps:
/// process context only.
pub fn synchronize() {
    // SAFETY: No preconditions beyond being allowed to sleep, which `might_sleep` checks.
    unsafe { bindings::synchronize_rcu() };
}

/// As [`synchronize`], but drives the grace period to its end at once
/// (`synchronize_rcu_expedited`: each CPU still in a read-side section is interrupted to
/// report) instead of waiting for every CPU's next quiescent state. For writers that update
/// rarely but many times in a row: each wait takes microseconds, not a grace period, at the
/// cost of an interrupt to the busy CPUs. Sleeps: process context only.
pub fn synchronize_expedited() {
    // SAFETY: No preconditions beyond being allowed to sleep, which `might_sleep` checks.
    unsafe { bindings::synchronize_rcu_expedited() };
}

/// A heap value published for RCU readers.
///
/// Readers call [`RcuBox::read`] under a [`Guard`]; writers call [`RcuBox::update`], which
/// serialises them, builds the new value from the current one, publishes it and frees the
/// old one after a grace period.
///
/// # Invariants
///
/// `ptr` always holds a pointer obtained from `KBox::into_raw`, owned by this `RcuBox`.
/// It changes only in `update`, with `writer` held, and the value it replaced is freed only
/// after a grace period.
#[pin_data(PinnedDrop)]
pub struct RcuBox<T: Send + Sync> {
    ptr: AtomicPtr<T>,
    #[pin]
    writer: Mutex<()>,
}

// SAFETY: Readers share `&T` across CPUs (`T: Sync`) and the value moves between threads
// when replaced (`T: Send`).
unsafe impl<T: Send + Sync> Send for RcuBox<T> {}
// SAFETY: As above.
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}

impl<T: Send + Sync> RcuBox<T> {
    /// Publishes `value`.
    pub fn new(value: KBox<T>) -> impl PinInit<Self> {
        // INVARIANT: the pointer comes from `KBox::into_raw`.
        pin_init!(Self {
            ptr: AtomicPtr::new(KBox::into_raw(value)),
            writer <- new_mutex!((), "RcuBox::writer"),
        })
    }

    /// The current value, valid while the guard lives.
    pub fn read<'a>(&'a self, _guard: &'a Guard) -> &'a T {
        // `Acquire` pairs with the `AcqRel` swap of `update` (`rcu_dereference`).
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: `p` came from `KBox::into_raw` (type invariant) and is freed only after a
        // grace period that waits for the read-side section that `_guard` proves we are in.
        unsafe { &*p }
    }

    /// Replaces the value with what `f` builds from the current one, and returns the old
    /// value once no reader can see it any more. If `f` fails, nothing changes.
    ///
    /// Writers are serialised; `f` may sleep and allocate. Sleeps for an expedited RCU grace
    /// period ([`synchronize_expedited`]: a configuration restored a line at a time makes
    /// many updates in a row): process context only.
    pub fn update<E>(&self, f: impl FnOnce(&T) -> Result<KBox<T>, E>) -> Result<KBox<T>, E> {
        let _writer = self.writer.lock();
        let cur = self.ptr.load(Ordering::Acquire);
        // SAFETY: `cur` came from `KBox::into_raw` (type invariant); only `update` frees it,
        // and we hold `writer`, so it stays valid until we replace it below.
        let new = f(unsafe { &*cur })?;
        // `Release` publishes the initialised value (`rcu_assign_pointer`).
        let old = self.ptr.swap(KBox::into_raw(new), Ordering::AcqRel);
        synchronize_expedited();
        // SAFETY: `old` came from `KBox::into_raw` (type invariant); it is no longer
        // published, and the grace period has ended every reader that could have loaded it.
        Ok(unsafe { KBox::from_raw(old) })
    }
}

#[pinned_drop]
impl<T: Send + Sync> PinnedDrop for RcuBox<T> {
    fn drop(self: Pin<&mut Self>) {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: `p` came from `KBox::into_raw` (type invariant). Being dropped means no
        // reader holds a reference obtained through `read` any more.
        drop(unsafe { KBox::from_raw(p) });
    }
}
