// SPDX-License-Identifier: GPL-2.0

//! Periodic work in process context on the system workqueue.
//!
//! A [`Periodic`] runs its handler every `period_ms` milliseconds in process context (it may
//! sleep and take bh-safe locks) until it is dropped; dropping it cancels the work and waits
//! for a run in progress, so the handler is never called afterwards.
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h)

use crate::{bindings, prelude::*, types::Opaque};
use core::sync::atomic::{AtomicBool, Ordering};

/// What a [`Periodic`] runs.
pub trait Handler: Send + Sync {
    /// Runs once per period, in process context.
    fn run(&self);
}

#[repr(C)]
struct Inner<T> {
    work: Opaque<bindings::delayed_work>,
    stopping: AtomicBool,
    period: crate::ffi::c_ulong,
    handler: T,
}

/// A handler run periodically until dropped.
///
/// # Invariants
///
/// `inner.work` was initialised with [`Periodic::<T>::run`] as its function and is queued
/// (or running, about to queue itself again) from construction until `drop` has cancelled
/// it; `inner` is pinned in the heap, so the work item's address stays valid all along.
pub struct Periodic<T: Handler> {
    inner: Pin<KBox<Inner<T>>>,
}

// SAFETY: The handler is `Send + Sync`; the work item is synchronised by the workqueue core.
unsafe impl<T: Handler> Send for Periodic<T> {}
// SAFETY: `&Periodic` gives access only to `&T`, and `T: Sync`.
unsafe impl<T: Handler> Sync for Periodic<T> {}

impl<T: Handler> Periodic<T> {
    /// Starts running `handler` every `period_ms` milliseconds (the first run after one
    /// period).
    pub fn start(handler: T, period_ms: u32) -> Result<Self> {
        // SAFETY: `msecs_to_jiffies` has no preconditions.
        let period = unsafe { bindings::msecs_to_jiffies(period_ms) };
        let inner = KBox::pin(
            Inner {
                work: Opaque::uninit(),
                stopping: AtomicBool::new(false),
                period,
                handler,
            },
            GFP_KERNEL,
        )?;
        let work = inner.work.get();
        // SAFETY: `work` is ours, pinned, and not yet visible to anyone; initialising it and
        // queueing it is what the invariant requires.
        unsafe {
            bindings::init_delayed_work(work, Some(Self::run));
            bindings::queue_delayed_work_system(work, period);
        }
        Ok(Self { inner })
    }

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.inner.handler
    }

    /// # Safety
    ///
    /// Called by the workqueue core for a work item initialised by [`Periodic::start`].
    unsafe extern "C" fn run(work: *mut bindings::work_struct) {
        // SAFETY: `work` is in the `delayed_work` that starts (`repr(C)`) a live `Inner<T>`:
        // `drop` waits for this call to return before freeing it.
        let inner = unsafe {
            let dw = container_of!(work, bindings::delayed_work, work);
            &*container_of!(dw.cast::<Opaque<bindings::delayed_work>>(), Inner<T>, work)
        };
        inner.handler.run();
        if !inner.stopping.load(Ordering::Acquire) {
            // SAFETY: The work item is initialised and alive (see above).
            unsafe { bindings::queue_delayed_work_system(inner.work.get(), inner.period) };
        }
    }
}

impl<T: Handler> Drop for Periodic<T> {
    fn drop(&mut self) {
        self.inner.stopping.store(true, Ordering::Release);
        // SAFETY: The work is initialised (type invariant); this cancels it, waits for a run
        // in progress and stops it requeueing itself, so nothing uses `inner` afterwards.
        unsafe { bindings::cancel_delayed_work_sync(self.inner.work.get()) };
    }
}
