// SPDX-License-Identifier: GPL-2.0
//! Parsing and range checks for the module's integer sysctls.
//!
//! The kernel side (`rust/kernel/sysctl.rs`) hands the bytes a user wrote to
//! [`parse_write`]; only an `Ok(Some(v))` is stored, so a rejected write leaves the old
//! value in place.

/// An inclusive range of accepted values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    /// Smallest accepted value.
    pub min: i64,
    /// Largest accepted value.
    pub max: i64,
}

impl IntRange {
    /// The range `min..=max`.
    pub const fn new(min: i64, max: i64) -> Self {
        Self { min, max }
    }

    /// Whether `v` lies in the range.
    pub const fn contains(&self, v: i64) -> bool {
        v >= self.min && v <= self.max
    }
}

/// Why a write was refused. Every variant maps to `EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// Not a decimal integer (letters, several numbers, a lone sign, ...).
    NotANumber,
    /// A number, but outside the entry's range (or beyond `i64`).
    OutOfRange,
}

/// Parses what a user wrote to an integer sysctl.
///
/// Accepts optional surrounding ASCII whitespace (so `echo 2 >` works), an optional sign
/// and decimal digits. Returns `Ok(None)` for an empty or all-whitespace write, which
/// changes nothing, as `proc_dointvec` does.
pub fn parse_write(input: &[u8], range: IntRange) -> Result<Option<i64>, WriteError> {
    let s = trim(input);
    if s.is_empty() {
        return Ok(None);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(WriteError::NotANumber);
    }
    let mut v: i64 = 0;
    let mut overflow = false;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(WriteError::NotANumber);
        }
        let d = i64::from(c - b'0');
        match v.checked_mul(10).and_then(|x| x.checked_add(d)) {
            Some(x) => v = x,
            None => overflow = true,
        }
    }
    if overflow {
        return Err(WriteError::OutOfRange);
    }
    let v = if neg { -v } else { v };
    if range.contains(v) {
        Ok(Some(v))
    } else {
        Err(WriteError::OutOfRange)
    }
}

/// Formats `v` followed by a newline into `buf`, returning the number of bytes written, or
/// `None` when `buf` is too small (a read then returns nothing rather than a cut number).
pub fn format_value(v: i64, buf: &mut [u8]) -> Option<usize> {
    let mut tmp = [0u8; 24];
    let mut n = 0;
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        *tmp.get_mut(n)? = b'0' + (u % 10) as u8;
        n += 1;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        *tmp.get_mut(n)? = b'-';
        n += 1;
    }
    let out = buf.get_mut(..n + 1)?;
    for (i, o) in out.iter_mut().take(n).enumerate() {
        *o = *tmp.get(n - 1 - i)?;
    }
    *out.get_mut(n)? = b'\n';
    Some(n + 1)
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or(&[])
}
