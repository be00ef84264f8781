// SPDX-License-Identifier: GPL-2.0

//! Names the kernel needs as C strings (sysctl files, netlink strings) and the rest of the
//! code as `str`: each is written once, as a C string, and the other forms derive from it.

use core::ffi::CStr;

/// `bytes` as a `str`. The names of this crate are ASCII, so the empty fallback is never
/// taken (the host tests check every name).
pub const fn ascii(bytes: &'static [u8]) -> &'static str {
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => "",
    }
}

/// The C string after the first `n` bytes of `s` (a name without its prefix), or the empty
/// string when `s` is not longer than `n`.
pub const fn c_suffix(s: &'static CStr, n: usize) -> &'static CStr {
    let b = s.to_bytes_with_nul();
    if n >= b.len() {
        return c"";
    }
    let (_, tail) = b.split_at(n);
    match CStr::from_bytes_with_nul(tail) {
        Ok(c) => c,
        Err(_) => c"",
    }
}
