// SPDX-License-Identifier: GPL-2.0

//! Sysctl tables under `/proc/sys/`.
//!
//! A table is a list of [`Entry`]s, each backed by a `'static` value implementing [`Value`]:
//! the value renders itself for reads and validates and stores writes, so a value with a
//! range can refuse a write with `EINVAL` and keep what it had. [`Registration`] registers
//! the table in the initial network namespace's `net/` directory and unregisters it on drop.
//!
//! C header: [`include/linux/sysctl.h`](srctree/include/linux/sysctl.h)

use crate::{bindings, prelude::*, str::CStr, sync::Arc};
use core::{ffi::c_void, ptr::NonNull};

/// The longest write a value accepts; longer writes fail with `EINVAL`.
const MAX_WRITE: usize = 64;

/// What a sysctl file shows and accepts.
///
/// Called in process context, possibly on several CPUs at once: use atomics or a lock.
pub trait Value: Sync + 'static {
    /// Writes the value's text (with its trailing newline) into `out` and returns its length.
    /// An error fails the `read()` with it.
    fn show(&self, out: &mut [u8]) -> Result<usize>;

    /// Parses and stores `input`, what the user wrote (at most 64 bytes). Returning an error
    /// fails the `write()` with that error; the value must then be unchanged.
    fn store(&self, input: &[u8]) -> Result;
}

/// One file of a sysctl table.
///
/// # Invariants
///
/// `data` points to a `T: Value` that `handler` (which is `proc_handler::<T>`) expects. If
/// `release` is `None` the `T` is `'static`; otherwise `data` came from `Arc::<T>::into_raw`
/// and `release` (which is `release_arc::<T>`) gives that reference back exactly once, when
/// the entry is dropped.
pub struct Entry {
    name: &'static CStr,
    data: *const c_void,
    release: Option<unsafe fn(*const c_void)>,
    handler: unsafe extern "C" fn(
        *const bindings::ctl_table,
        i32,
        *mut c_void,
        *mut usize,
        *mut bindings::loff_t,
    ) -> i32,
    mode: u16,
}

impl Entry {
    /// A file that root may write and everyone may read (mode 0644).
    pub fn read_write<T: Value>(name: &'static CStr, value: &'static T) -> Self {
        Self::new(name, value, 0o644)
    }

    /// A file everyone may read and nobody may write (mode 0444).
    pub fn read_only<T: Value>(name: &'static CStr, value: &'static T) -> Self {
        Self::new(name, value, 0o444)
    }

    /// A read-only file (mode 0444) backed by a shared value, which the entry keeps alive.
    pub fn read_only_shared<T: Value>(name: &'static CStr, value: Arc<T>) -> Self {
        Self::shared(name, value, 0o444)
    }

    /// A file that root may write and everyone may read (mode 0644), backed by a shared
    /// value, which the entry keeps alive.
    pub fn read_write_shared<T: Value>(name: &'static CStr, value: Arc<T>) -> Self {
        Self::shared(name, value, 0o644)
    }

    fn shared<T: Value>(name: &'static CStr, value: Arc<T>, mode: u16) -> Self {
        // INVARIANT: `data` comes from `Arc::into_raw` and `release` is `release_arc::<T>`.
        Self {
            name,
            data: Arc::into_raw(value).cast(),
            release: Some(release_arc::<T>),
            handler: proc_handler::<T>,
            mode,
        }
    }

    fn new<T: Value>(name: &'static CStr, value: &'static T, mode: u16) -> Self {
        // INVARIANT: `data` is a `&'static T` and `handler` is `proc_handler::<T>`.
        Self {
            name,
            data: core::ptr::from_ref(value).cast(),
            release: None,
            handler: proc_handler::<T>,
            mode,
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: `data` holds one `Arc::into_raw` reference of the `T` that `release`
            // expects (type invariant), given back only here.
            unsafe { release(self.data) };
        }
    }
}

/// Gives back the reference an [`Entry`] holds on its shared value.
///
/// # Safety
///
/// `data` must come from `Arc::<T>::into_raw`, and that reference must not be used again.
unsafe fn release_arc<T: Value>(data: *const c_void) {
    // SAFETY: Guaranteed by the caller.
    drop(unsafe { Arc::<T>::from_raw(data.cast()) });
}

/// A registered sysctl table.
///
/// # Invariants
///
/// `header` is the non-null result of `register_net_sysctl_sz` for `table`, which stays
/// allocated (and is never changed) until `drop` unregisters it; `entries` keep the values
/// that `table` points to alive until then (fields drop after `drop` has run).
pub struct Registration {
    header: NonNull<bindings::ctl_table_header>,
    _table: KVec<bindings::ctl_table>,
    _entries: KVec<Entry>,
}

// SAFETY: The header is only used to unregister, which may happen on any thread.
// The entries' data is `Sync` (`Value: Sync`) and only read through `&`.
unsafe impl Send for Registration {}
// SAFETY: `&Registration` exposes nothing.
unsafe impl Sync for Registration {}

impl Registration {
    /// Registers `entries` as files of `/proc/sys/<path>` (for instance `net/ipvs_defense`).
    pub fn register(path: &'static CStr, entries: KVec<Entry>) -> Result<Self> {
        let mut table = KVec::with_capacity(entries.len(), GFP_KERNEL)?;
        for e in entries.iter() {
            table.push(
                bindings::ctl_table {
                    procname: e.name.as_char_ptr(),
                    data: e.data.cast_mut(),
                    maxlen: 0,
                    mode: e.mode,
                    proc_handler: Some(e.handler),
                    poll: core::ptr::null_mut(),
                    extra1: core::ptr::null_mut(),
                    extra2: core::ptr::null_mut(),
                },
                GFP_KERNEL,
            )?;
        }
        // SAFETY: `init_net`, `path` and every `procname` are `'static`; `table` (initialised)
        // stays, unchanged, in the returned registration until it unregisters.
        let header = unsafe {
            bindings::register_net_sysctl_sz(
                core::ptr::addr_of_mut!(bindings::init_net),
                path.as_char_ptr(),
                table.as_mut_ptr(),
                table.len(),
            )
        };
        let header = NonNull::new(header).ok_or(ENOMEM)?;
        // INVARIANT: `header` is the registration of `table`.
        Ok(Self {
            header,
            _table: table,
            _entries: entries,
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `header` is registered; unregistering waits until no
        // handler of the table is running, so the table and its values may go afterwards.
        unsafe { bindings::unregister_net_sysctl_table(self.header.as_ptr()) };
    }
}

/// The `proc_handler` of every entry backed by a `T`.
///
/// # Safety
///
/// Called only by the sysctl core for an entry created by [`Entry::new::<T>`]: `ctl.data`
/// is a `&'static T`, `buffer` is a kernel buffer of `*lenp` bytes, `lenp` and `ppos` are
/// valid.
unsafe extern "C" fn proc_handler<T: Value>(
    ctl: *const bindings::ctl_table,
    write: i32,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> i32 {
    // SAFETY: `ctl` is the valid table entry whose `data` is a `&'static T` (see above).
    let value = unsafe { &*(*ctl).data.cast::<T>() };
    // SAFETY: `lenp` and `ppos` are valid for reads and writes for the call.
    let (len, pos) = unsafe { (&mut *lenp, &mut *ppos) };
    if write != 0 {
        // A value is written in one piece, at the start of the file.
        if *pos != 0 || *len > MAX_WRITE {
            return EINVAL.to_errno();
        }
        // SAFETY: the sysctl core passes a kernel buffer holding `*len` bytes of user input.
        let input = unsafe { core::slice::from_raw_parts(buffer.cast::<u8>(), *len) };
        if let Err(e) = value.store(input) {
            return e.to_errno();
        }
        *pos += *len as bindings::loff_t;
        return 0;
    }
    // Reads: everything at offset 0, then end of file.
    if *pos != 0 {
        *len = 0;
        return 0;
    }
    let mut text = [0u8; 32];
    let n = match value.show(&mut text) {
        Ok(n) => n.min(text.len()).min(*len),
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the sysctl core passes a kernel buffer with room for `*len` bytes, and
    // `n <= *len`; `text` holds at least `n` bytes.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), n) };
    *len = n;
    *pos += n as bindings::loff_t;
    0
}
