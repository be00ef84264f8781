// SPDX-License-Identifier: GPL-2.0

//! Helpers shared by the packet targets: an independent RFC 1071 checksum (written plainly,
//! not with `ipvsd_logic::checksum`, so that the targets also check that module) and byte
//! accessors that panic on a bad offset, which in a target means the parser's offsets
//! were wrong.
#![allow(dead_code)]

/// The ones' complement sum of `data` as big-endian 16-bit words, an odd last byte padded
/// with zero, plus `init`; unfolded (a `u64` cannot overflow for any packet).
pub fn ref_sum(data: &[u8], init: u64) -> u64 {
    let mut s = init;
    for pair in data.chunks(2) {
        let hi = u64::from(pair[0]) << 8;
        let lo = pair.get(1).map_or(0, |&b| u64::from(b));
        s += hi | lo;
    }
    s
}

/// Folds a sum to 16 bits with end-around carry.
pub fn ref_fold(mut s: u64) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Whether `data`, checksum field included, verifies: its folded sum is all ones.
pub fn verifies(data: &[u8], init: u64) -> bool {
    ref_fold(ref_sum(data, init)) == 0xffff
}

/// The checksum of `data` with the 16-bit field at `field` counted as zero, computed
/// afresh: the value a sender writes.
pub fn fresh(data: &[u8], field: usize, init: u64) -> u16 {
    let mut d = data.to_vec();
    d[field] = 0;
    d[field + 1] = 0;
    !ref_fold(ref_sum(&d, init))
}

/// The TCP/UDP pseudo-header sum (addresses host order, protocol, length).
pub fn pseudo(src: u32, dst: u32, protocol: u8, len: usize) -> u64 {
    u64::from(src >> 16)
        + u64::from(src & 0xffff)
        + u64::from(dst >> 16)
        + u64::from(dst & 0xffff)
        + u64::from(protocol)
        + len as u64
}

/// `a` and `b` are the same number in ones' complement (0x0000 and 0xFFFF are both zero).
pub fn oc_eq(a: u64, b: u64) -> bool {
    a % 0xffff == b % 0xffff
}

pub fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Hex of a buffer, for assertion messages.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
