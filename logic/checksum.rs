// SPDX-License-Identifier: GPL-2.0
//! Internet checksums: full computation (RFC 1071) and incremental update (RFC 1624).
//!
//! The checksum of IPv4, TCP, UDP and ICMP is the ones' complement of the ones' complement
//! sum of the covered 16-bit big-endian words (TCP and UDP also cover a pseudo-header of
//! source, destination, protocol and length). When NAT changes a few words, RFC 1624
//! equation 3 gives the new checksum from the old one without reading the rest:
//!
//! `HC' = ~(~HC + ~m + m')` for each changed word `m` → `m'`.
//!
//! Unlike the older equation 2, this never turns a valid checksum into 0x0000 where a full
//! computation gives 0xFFFF or the reverse (the tests compare both over random packets).
//! UDP has two extra rules: a checksum of 0 means "none" and stays 0, and a computed 0 is
//! sent as 0xFFFF.
//!
//! *Partial* checksums: when checksumming is offloaded (the kernel's `CHECKSUM_PARTIAL`),
//! the TCP/UDP field holds the uncomplemented pseudo-header sum instead; only address
//! changes affect it. [`update_partial32`] updates such a field.

/// The ones' complement sum of `data` as 16-bit big-endian words (an odd last byte is
/// padded with zero), added to `acc`. Unfolded: finish with [`fold`].
pub fn sum(data: &[u8], acc: u64) -> u64 {
    let mut chunks = data.chunks_exact(2);
    let mut acc = acc;
    for w in &mut chunks {
        acc = acc.wrapping_add(u64::from(be16(w)));
    }
    if let Some(&last) = chunks.remainder().first() {
        acc = acc.wrapping_add(u64::from(last) << 8);
    }
    acc
}

/// Folds an unfolded sum to 16 bits with end-around carry.
pub fn fold(acc: u64) -> u16 {
    let mut s = acc;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// The checksum of `data` (ICMP, or an IPv4 header whose checksum field is zero).
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data, 0))
}

/// The unfolded sum of the TCP/UDP pseudo-header: addresses (host order), protocol and
/// the transport length.
pub fn pseudo_header_sum(src: u32, dst: u32, protocol: u8, len: u16) -> u64 {
    u64::from(src >> 16)
        + u64::from(src & 0xffff)
        + u64::from(dst >> 16)
        + u64::from(dst & 0xffff)
        + u64::from(protocol)
        + u64::from(len)
}

/// The checksum of a TCP or UDP `segment` (header and data, with its checksum field at
/// `field` counted as zero) from `src` to `dst`. UDP callers map a result of 0 to 0xFFFF
/// ([`udp_on_wire`]). `None` when the field is not inside the segment or the segment is
/// longer than 65535 bytes.
pub fn transport_checksum(
    src: u32,
    dst: u32,
    protocol: u8,
    segment: &[u8],
    field: usize,
) -> Option<u16> {
    let len = u16::try_from(segment.len()).ok()?;
    let stored = be16(segment.get(field..field.checked_add(2)?)?);
    let acc = sum(segment, pseudo_header_sum(src, dst, protocol, len));
    // Take the stored field back out: adding its complement subtracts it.
    Some(!fold(acc.wrapping_add(u64::from(!stored))))
}

/// A UDP checksum as sent: a computed 0 becomes 0xFFFF (0 means "no checksum").
pub const fn udp_on_wire(csum: u16) -> u16 {
    if csum == 0 {
        0xffff
    } else {
        csum
    }
}

/// RFC 1624 eq. 3 for one changed 16-bit word: the checksum `hc` after `old` → `new`.
pub fn update16(hc: u16, old: u16, new: u16) -> u16 {
    !fold(u64::from(!hc) + u64::from(!old) + u64::from(new))
}

/// RFC 1624 eq. 3 for a changed 32-bit value (two words), e.g. an address.
pub fn update32(hc: u16, old: u32, new: u32) -> u16 {
    let acc = u64::from(!hc)
        + u64::from(!(old >> 16) as u16)
        + u64::from(!(old as u16))
        + u64::from(new >> 16)
        + u64::from(new & 0xffff);
    !fold(acc)
}

/// [`update16`] for a UDP checksum: 0 ("none") stays 0, a result of 0 becomes 0xFFFF.
pub fn udp_update16(hc: u16, old: u16, new: u16) -> u16 {
    if hc == 0 {
        0
    } else {
        udp_on_wire(update16(hc, old, new))
    }
}

/// [`update32`] for a UDP checksum: 0 ("none") stays 0, a result of 0 becomes 0xFFFF.
pub fn udp_update32(hc: u16, old: u32, new: u32) -> u16 {
    if hc == 0 {
        0
    } else {
        udp_on_wire(update32(hc, old, new))
    }
}

/// Updates a partial (offloaded) TCP/UDP checksum field for an address change: the field
/// holds the uncomplemented pseudo-header sum `S`, which becomes `S - old + new`.
pub fn update_partial32(field: u16, old: u32, new: u32) -> u16 {
    !update32(!field, old, new)
}

/// Two bytes as a big-endian word (0 when fewer than two).
fn be16(b: &[u8]) -> u16 {
    match b {
        [hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
        _ => 0,
    }
}
