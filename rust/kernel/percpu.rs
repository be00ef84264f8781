// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters.
//!
//! C header: [`include/linux/percpu.h`](srctree/include/linux/percpu.h)

use crate::{bindings, error::code::ENOMEM, prelude::*};
use core::{
    ptr,
    sync::atomic::{AtomicU64, Ordering},
};

// Another CPU's counter is read with one untorn load only where a `u64` is one word.
const _: () = assert!(usize::BITS == 64);

/// `N` counters of 64 bits, one set of them on every possible CPU.
///
/// [`PerCpuCounters::add`] changes only the running CPU's copy, with `this_cpu_add`: no
/// cache line is written by two CPUs, no lock is taken, and it may be called in any context
/// (process, softirq, hard interrupt). [`PerCpuCounters::get`] sums the copies of every
/// possible CPU; a reader racing with writers sees some of their adds and not others, as
/// with any statistics. [`PerCpuCounters::zero`] records the sums as the new base instead
/// of writing to other CPUs' copies, so that each copy has one writer, its CPU.
///
/// # Invariants
///
/// `ptr` is the per-CPU pointer that `__alloc_percpu` returned for `N` `u64`s; it is owned
/// by this value and freed by its `Drop`.
pub struct PerCpuCounters<const N: usize> {
    ptr: *mut u64,
    base: [AtomicU64; N],
}

// SAFETY: The per-CPU memory is owned by the value and only reached through it. Each CPU's
// copy is written by that CPU alone (`this_cpu_add`, safe against preemption and interrupts
// on the CPU), and read by others with single aligned 64-bit loads, which cannot tear on
// the 64-bit architectures this builds for; the base is atomic.
unsafe impl<const N: usize> Send for PerCpuCounters<N> {}
// SAFETY: As for `Send`: `&self` methods only add to the running CPU's copy, read copies
// with untorn loads, and update the atomic base.
unsafe impl<const N: usize> Sync for PerCpuCounters<N> {}

impl<const N: usize> PerCpuCounters<N> {
    /// Allocates the counters, all zero. Might sleep.
    pub fn new() -> Result<Self> {
        let size = core::mem::size_of::<[u64; N]>();
        // `__alloc_percpu` (GFP_KERNEL) returns NULL on failure and zeroes every possible
        // CPU's copy; it takes any size and a power-of-two alignment up to PAGE_SIZE.
        // SAFETY: It may sleep, which this function's contract allows.
        let ptr = unsafe { bindings::ipvsd_alloc_percpu(size, core::mem::align_of::<u64>()) };
        if ptr.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `ptr` came from `__alloc_percpu` for `[u64; N]`.
        Ok(Self {
            ptr: ptr.cast(),
            base: [const { AtomicU64::new(0) }; N],
        })
    }

    /// Adds `value` to counter `index` on the running CPU; an index not below `N` is
    /// ignored.
    #[inline]
    pub fn add(&self, index: usize, value: u64) {
        if index >= N {
            return;
        }
        // `wrapping_add`: a per-CPU pointer is an offset, not the address of an object.
        let counter = self.ptr.wrapping_add(index);
        // `this_cpu_add` needs nothing else and is safe in any context.
        // SAFETY: `ptr` is a live per-CPU allocation of `N` `u64`s (type invariant) and
        // `index < N`, so `counter` is a per-CPU pointer to one of them.
        unsafe { bindings::ipvsd_this_cpu_add_u64(counter, value) };
    }

    /// Counter `index` summed over every possible CPU, less the base set by the last
    /// [`PerCpuCounters::zero`]; 0 for an index not below `N`.
    pub fn get(&self, index: usize) -> u64 {
        let Some(base) = self.base.get(index) else {
            return 0;
        };
        // The base first: it is a sum taken before it was stored, and every copy only grows,
        // so a sum taken after reading it is never below it (read the other way round, a
        // zero in between would make the difference wrap).
        let base = base.load(Ordering::Acquire);
        self.sum(index).saturating_sub(base)
    }

    /// Makes every counter read 0 from now on (adds racing with it may be kept or not).
    pub fn zero(&self) {
        for (i, base) in self.base.iter().enumerate() {
            base.store(self.sum(i), Ordering::Release);
        }
    }

    /// The copies of counter `index` (below `N`) summed over every possible CPU.
    fn sum(&self, index: usize) -> u64 {
        let counter = self.ptr.wrapping_add(index);
        // SAFETY: `nr_cpu_ids` is set at boot and read-only afterwards.
        let nr_cpus = unsafe { bindings::ipvsd_nr_cpu_ids() };
        let mut total = 0u64;
        // SAFETY: `cpumask_next(-1, cpu_possible_mask)`, -1 being a legal argument, is the
        // first possible CPU (the mask is fixed after boot).
        let mut cpu = unsafe { bindings::ipvsd_next_possible_cpu(-1) };
        while cpu < nr_cpus {
            // `per_cpu_ptr` only adds the CPU's offset; `__alloc_percpu` populated a copy for
            // every possible CPU.
            // SAFETY: `counter` points into a live allocation (type invariant, `index < N`)
            // and `cpu` is a possible CPU.
            let copy = unsafe { bindings::ipvsd_per_cpu_ptr_u64(counter, cpu as i32) };
            // Its CPU may be adding to it: a volatile load (`READ_ONCE`) of an aligned word
            // sees the value before or after the add, as `snmp_get_cpu_field` relies on.
            // SAFETY: `copy` points to an initialised, aligned `u64` living as long as `self`.
            total = total.wrapping_add(unsafe { ptr::read_volatile(copy) });
            // SAFETY: As above; `cpu` is below `nr_cpu_ids`.
            cpu = unsafe { bindings::ipvsd_next_possible_cpu(cpu as i32) };
        }
        total
    }
}

impl<const N: usize> Drop for PerCpuCounters<N> {
    fn drop(&mut self) {
        // `free_percpu` may be called from atomic context.
        // SAFETY: `ptr` came from `__alloc_percpu` and is owned by `self` (type invariant),
        // which is going away: nothing reaches the counters any more.
        unsafe { bindings::free_percpu(self.ptr.cast()) };
    }
}
