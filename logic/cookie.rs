// SPDX-License-Identifier: GPL-2.0
//! SYN cookies: an initial sequence number that a client can only acknowledge if it got the
//! SYN+ACK it was sent in, and that carries what the director must remember of the SYN.
//!
//! The construction is the kernel's (`net/ipv4/syncookies.c`), with the director's own
//! secrets: for a client → VIP flow with the client's initial sequence number `isn`,
//!
//! ```text
//! cookie = H0(flow) + isn + (count << 24) + ((H1(flow, count) + data) mod 2^24)
//! ```
//!
//! where `H0` and `H1` are SipHash-2-4 under two independent random keys, `count` is the
//! time in minutes ([`COUNT_TICKS_SECS`]) and `data` the index of the client's MSS in
//! [`MSS_TABLE`]. The ACK that completes the handshake carries `isn + 1` and `cookie + 1`:
//! [`check`] strips `H0` and `isn`, reads `count` from the top 8 bits, refuses it if older
//! than [`MAX_AGE`] counts, and strips `H1` to find `data`, refused unless it is a valid
//! index. A guess passes with a probability of about [`MSS_TABLE`]'s length × [`MAX_AGE`]
//! in 2^24 per try, and a cookie is valid for a given flow only.
//!
//! The other options of the SYN (window scale, SACK permitted, ECN) have no room in the
//! cookie: when the client sent a timestamp they ride in the low 6 bits of the SYN+ACK's
//! timestamp value ([`Options::timestamp`]), which the client echoes; without timestamps
//! they are given up, as by the kernel's own cookies.

use crate::logic::hash::{siphash24, SipKey};

/// Seconds per cookie time count.
pub const COUNT_TICKS_SECS: u64 = 60;
/// A cookie is accepted for this many counts after the one it was made in (so for 60 to 120
/// seconds, as the kernel's `MAX_SYNCOOKIE_AGE`).
pub const MAX_AGE: u32 = 2;
/// The MSS values a cookie can carry (the kernel's `msstab`): a client gets the largest one
/// at most its own.
pub const MSS_TABLE: [u16; 4] = [536, 1300, 1440, 1460];

const COUNT_BITS: u32 = 24;
const COUNT_MASK: u32 = (1 << COUNT_BITS) - 1;

/// The two secrets, chosen at random when the director loads.
#[derive(Clone, Copy, Debug)]
pub struct Secrets {
    /// Key of `H0`, the flow's hash.
    pub flow: SipKey,
    /// Key of `H1`, the flow's hash with the count.
    pub counted: SipKey,
}

/// A client → VIP flow, addresses and ports in host order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub saddr: u32,
    pub daddr: u32,
    pub sport: u16,
    pub dport: u16,
}

fn hash(key: SipKey, f: Flow, count: u32) -> u32 {
    let mut b = [0u8; 16];
    let words = [
        f.saddr,
        f.daddr,
        (f.sport as u32) << 16 | f.dport as u32,
        count,
    ];
    for (chunk, w) in b.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&w.to_be_bytes());
    }
    siphash24(key, &b) as u32
}

/// The index in [`MSS_TABLE`] of the largest value at most `mss` (0 for an MSS below all).
pub fn mss_index(mss: u16) -> u32 {
    MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32
}

/// The time count of `secs` seconds (of any clock that runs forward).
pub const fn count_at(secs: u64) -> u32 {
    (secs / COUNT_TICKS_SECS) as u32
}

/// The cookie for flow `f` whose SYN has sequence number `isn` and announced `mss`, made at
/// count `count`.
pub fn make(s: &Secrets, f: Flow, isn: u32, mss: u16, count: u32) -> u32 {
    let data = mss_index(mss);
    hash(s.flow, f, 0)
        .wrapping_add(isn)
        .wrapping_add(count << COUNT_BITS)
        .wrapping_add(hash(s.counted, f, count).wrapping_add(data) & COUNT_MASK)
}

/// Checks `cookie` (the ACK's acknowledgment number minus one) for flow `f` whose client
/// started at `isn` (the ACK's sequence number minus one), at count `now`; returns the MSS
/// it carries, or `None` when it is not one the director made in the last [`MAX_AGE`]
/// counts for this flow and sequence number.
pub fn check(s: &Secrets, f: Flow, isn: u32, cookie: u32, now: u32) -> Option<u16> {
    let c = cookie.wrapping_sub(hash(s.flow, f, 0).wrapping_add(isn));
    let age = now.wrapping_sub(c >> COUNT_BITS) & (u32::MAX >> COUNT_BITS);
    if age >= MAX_AGE {
        return None;
    }
    let made = now.wrapping_sub(age);
    let data = c.wrapping_sub(hash(s.counted, f, made)) & COUNT_MASK;
    MSS_TABLE.get(data as usize).copied()
}

/// The options of a SYN that ride in the SYN+ACK's timestamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The client's window scale (0 to 14), if it sent the option.
    pub wscale: Option<u8>,
    /// The client sent SACK permitted.
    pub sack: bool,
    /// The client asked for ECN (ECE and CWR on its SYN).
    pub ecn: bool,
}

const TS_BITS: u32 = 6;
const TS_WSCALE_NONE: u32 = 0xf;
const TS_SACK: u32 = 1 << 4;
const TS_ECN: u32 = 1 << 5;

impl Options {
    /// The SYN+ACK's timestamp value at clock `now` (the director's timestamp clock): `now`
    /// with its low 6 bits replaced by the options, never ahead of `now` (the timestamps
    /// that follow must not go backwards).
    pub const fn timestamp(&self, now: u32) -> u32 {
        let mut o = match self.wscale {
            // RFC 7323: a shift above 14 counts as 14.
            Some(w) if w > 14 => 14,
            Some(w) => w as u32,
            None => TS_WSCALE_NONE,
        };
        if self.sack {
            o |= TS_SACK;
        }
        if self.ecn {
            o |= TS_ECN;
        }
        let ts = (now >> TS_BITS) << TS_BITS | o;
        if ts > now {
            ts.wrapping_sub(1 << TS_BITS)
        } else {
            ts
        }
    }

    /// The options in a timestamp echo reply (the ACK's `tsecr`). A window scale of 15
    /// means none; the caller caps one above 14 at 14 (RFC 7323).
    pub const fn from_timestamp(tsecr: u32) -> Self {
        let w = tsecr & TS_WSCALE_NONE;
        Self {
            wscale: if w == TS_WSCALE_NONE {
                None
            } else {
                Some(w as u8)
            },
            sack: tsecr & TS_SACK != 0,
            ecn: tsecr & TS_ECN != 0,
        }
    }
}
