// SPDX-License-Identifier: GPL-2.0

//! System memory figures.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)

use crate::bindings;

/// What `si_meminfo()` reports, in pages.
#[derive(Clone, Copy, Debug)]
pub struct MemInfo {
    /// Total usable RAM.
    pub total_pages: u64,
    /// Free pages.
    pub free_pages: u64,
    /// Pages used by block device buffers.
    pub buffer_pages: u64,
}

impl MemInfo {
    /// Reads the current figures.
    pub fn read() -> Self {
        // SAFETY: An all-zero `sysinfo` is valid; `si_meminfo` fills it and has no other
        // preconditions.
        let mut si: bindings::sysinfo = unsafe { core::mem::zeroed() };
        // SAFETY: `si` is a valid, writable `sysinfo`.
        unsafe { bindings::si_meminfo(&mut si) };
        // `si_meminfo` reports in units of `mem_unit` bytes, which is `PAGE_SIZE`.
        let unit = u64::from(si.mem_unit.max(1));
        let page = bindings::PAGE_SIZE as u64;
        let pages = |v: u64| v.saturating_mul(unit) / page;
        Self {
            total_pages: pages(si.totalram as u64),
            free_pages: pages(si.freeram as u64),
            buffer_pages: pages(si.bufferram as u64),
        }
    }

    /// Free plus buffer pages: the figure IPVS's defense compares with `amemthresh`.
    pub fn available_pages(&self) -> u64 {
        self.free_pages.saturating_add(self.buffer_pages)
    }
}
