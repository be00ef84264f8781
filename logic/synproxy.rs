// SPDX-License-Identifier: GPL-2.0
//! What a SYN proxy changes in the segments of a connection it set up.
//!
//! The client was answered by the director: its SYN+ACK carried the cookie as initial
//! sequence number, the director's timestamp clock and the director's window scale. The
//! real server answered the director's own SYN with its initial sequence number, its
//! timestamp clock and its window scale. The client's side needs no change (the real
//! server got the client's initial sequence number, timestamps and window scale), so for
//! the life of the connection, given a [`Translation`]:
//!
//! - a segment from the real server ([`to_client`]) gets its sequence number and its
//!   timestamp value shifted into the director's spaces, and its window rescaled from the
//!   real server's scale to the director's;
//! - a segment from the client ([`to_server`]) gets its acknowledgment number, its SACK
//!   blocks and its timestamp echo shifted back into the real server's spaces.
//!
//! The TCP checksum is updated incrementally when the segment carries a full one; with
//! the checksum offloaded (`CsumMode::Partial`) the field holds only the pseudo-header's
//! sum, which these changes leave alone.

use crate::logic::checksum;
use crate::logic::packet::{CsumMode, Icmp, Packet, Transport, IPPROTO_TCP};
use crate::logic::tcp_state::TcpFlags;
use core::ffi::CStr;

/// What the SYN proxy counts, each shown as a read-only sysctl file of its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyCount {
    /// SYNs answered with a cookie.
    CookiesSent = 0,
    /// ACKs whose cookie was valid.
    CookiesValid = 1,
    /// ACKs whose cookie was not (also counted as blind ACKs).
    CookiesRefused = 2,
    /// Connections whose real server refused (reset) or stayed silent: the client was
    /// reset.
    SetupFailures = 3,
}

impl ProxyCount {
    /// Every count, in the order of their numbers.
    pub const ALL: [ProxyCount; 4] = [
        ProxyCount::CookiesSent,
        ProxyCount::CookiesValid,
        ProxyCount::CookiesRefused,
        ProxyCount::SetupFailures,
    ];

    /// The index of its counter.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Its sysctl file's name.
    pub const fn sysctl_name(self) -> &'static CStr {
        match self {
            ProxyCount::CookiesSent => c"syn_cookies_sent",
            ProxyCount::CookiesValid => c"syn_cookies_valid",
            ProxyCount::CookiesRefused => c"syn_cookies_refused",
            ProxyCount::SetupFailures => c"syn_proxy_failures",
        }
    }
}

/// Shifts the sequence number of the TCP segment quoted by the ICMP error `pkt` (parsed
/// from `buf`) by `by`: a client's error about a proxied connection's segment quotes the
/// director's numbers, which the real server only knows shifted back. Updates the quoted
/// TCP checksum when the quote holds it (`pkt.ip.total_len`) and the ICMP checksum. A quote
/// too short to hold the sequence number is left alone.
pub fn shift_quoted_seq(buf: &mut [u8], pkt: &Packet, by: u32) -> Result<(), Error> {
    let Transport::Icmp(Icmp { quote: Some(q), .. }) = pkt.transport else {
        return Ok(());
    };
    let tcp = q.offset + q.header_len;
    let seq_at = tcp + SEQ;
    if q.protocol != IPPROTO_TCP || seq_at + 4 > pkt.ip.total_len {
        return Ok(());
    }
    let icmp_csum_at = pkt.l4_offset() + 2;
    let get16 = |b: &[u8], at: usize| b.get(at..at + 2).map(|w| u16::from_be_bytes([w[0], w[1]]));
    let old = buf
        .get(seq_at..seq_at + 4)
        .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        .ok_or(Error::Truncated)?;
    let new = old.wrapping_add(by);
    let mut icmp = get16(buf, icmp_csum_at).ok_or(Error::Truncated)?;
    icmp = checksum::update32(icmp, old, new);
    let csum_at = tcp + CSUM;
    if csum_at + 2 <= pkt.ip.total_len {
        let c = get16(buf, csum_at).ok_or(Error::Truncated)?;
        let c2 = checksum::update32(c, old, new);
        icmp = checksum::update16(icmp, c, c2);
        buf.get_mut(csum_at..csum_at + 2)
            .ok_or(Error::Truncated)?
            .copy_from_slice(&c2.to_be_bytes());
    }
    buf.get_mut(seq_at..seq_at + 4)
        .ok_or(Error::Truncated)?
        .copy_from_slice(&new.to_be_bytes());
    buf.get_mut(icmp_csum_at..icmp_csum_at + 2)
        .ok_or(Error::Truncated)?
        .copy_from_slice(&icmp.to_be_bytes());
    Ok(())
}

/// How many times the director sends its SYN to a silent real server again before it
/// gives the connection up (and resets the client).
pub const SYN_RESENDS: u8 = 2;

/// Seconds a proxied entry in set-up waits for its real server after the director's SYN
/// was sent again `resends` times: 1, 2, 4 (7 in all before it gives up).
pub const fn setup_wait_secs(resends: u8) -> u64 {
    1 << resends
}

/// The shifts between the client's view of a connection and the real server's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Translation {
    /// The director's initial sequence number (the cookie) minus the real server's.
    pub seq: u32,
    /// The director's timestamp clock minus the real server's (0 without timestamps).
    pub ts: u32,
    /// The real server's window scale, and the one the director announced to the client
    /// (both 0 when the client did not offer the option).
    pub server_wscale: u8,
    pub client_wscale: u8,
}

/// Why a segment could not be translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The header is shorter than 20 bytes or than its data offset says.
    Truncated,
}

const SEQ: usize = 4;
const ACK: usize = 8;
const FLAGS: usize = 13;
const WINDOW: usize = 14;
const CSUM: usize = 16;
const OPTIONS: usize = 20;
const SACK: u8 = 5;
const TIMESTAMP: u8 = 8;

/// Translates the TCP header `tcp` (all of it, options included) of a segment from the
/// real server.
pub fn to_client(tcp: &mut [u8], t: &Translation, mode: CsumMode) -> Result<(), Error> {
    let mut h = Header::new(tcp, mode)?;
    h.add32(SEQ, t.seq)?;
    // A SYN's window is never scaled.
    if h.get8(FLAGS)? & TcpFlags::SYN == 0 && t.server_wscale != t.client_wscale {
        let w = (h.get16(WINDOW)? as u32) << t.server_wscale.min(14);
        let w = (w >> t.client_wscale.min(14)).min(u16::MAX as u32) as u16;
        h.set16(WINDOW, w)?;
    }
    if let Some(at) = h.option(TIMESTAMP, 10) {
        h.add32(at + 2, t.ts)?;
    }
    h.finish()
}

/// Translates the TCP header `tcp` (all of it, options included) of a segment from the
/// client.
pub fn to_server(tcp: &mut [u8], t: &Translation, mode: CsumMode) -> Result<(), Error> {
    let mut h = Header::new(tcp, mode)?;
    let back = t.seq.wrapping_neg();
    if h.get8(FLAGS)? & TcpFlags::ACK != 0 {
        h.add32(ACK, back)?;
    }
    if let Some(at) = h.option(TIMESTAMP, 10) {
        h.add32(at + 6, t.ts.wrapping_neg())?;
    }
    if let Some(at) = h.sack() {
        let len = h.get8(at + 1)? as usize;
        let mut edge = at + 2;
        while edge + 4 <= at + len {
            h.add32(edge, back)?;
            edge += 4;
        }
    }
    h.finish()
}

/// A TCP header being changed, with its checksum kept up to date.
struct Header<'a> {
    b: &'a mut [u8],
    mode: CsumMode,
    csum: u16,
}

impl<'a> Header<'a> {
    fn new(tcp: &'a mut [u8], mode: CsumMode) -> Result<Self, Error> {
        let off = (*tcp.get(12).ok_or(Error::Truncated)? >> 4) as usize * 4;
        if off < OPTIONS {
            return Err(Error::Truncated);
        }
        let b = tcp.get_mut(..off).ok_or(Error::Truncated)?;
        let csum = u16::from_be_bytes([b[CSUM], b[CSUM + 1]]);
        Ok(Self { b, mode, csum })
    }

    fn get8(&self, at: usize) -> Result<u8, Error> {
        self.b.get(at).copied().ok_or(Error::Truncated)
    }

    fn get16(&self, at: usize) -> Result<u16, Error> {
        let w = self.b.get(at..at + 2).ok_or(Error::Truncated)?;
        Ok(u16::from_be_bytes([w[0], w[1]]))
    }

    fn get32(&self, at: usize) -> Result<u32, Error> {
        let w = self.b.get(at..at + 4).ok_or(Error::Truncated)?;
        Ok(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    }

    fn set16(&mut self, at: usize, v: u16) -> Result<(), Error> {
        let old = self.get16(at)?;
        if self.mode == CsumMode::Full {
            self.csum = checksum::update16(self.csum, old, v);
        }
        self.b
            .get_mut(at..at + 2)
            .ok_or(Error::Truncated)?
            .copy_from_slice(&v.to_be_bytes());
        Ok(())
    }

    /// Adds `d` to the 32-bit word at `at` (which options may leave unaligned: the
    /// checksum is updated by 16-bit halves, each at its own parity).
    fn add32(&mut self, at: usize, d: u32) -> Result<(), Error> {
        let old = self.get32(at)?;
        let new = old.wrapping_add(d);
        if self.mode == CsumMode::Full {
            self.csum = if at % 2 == 0 {
                checksum::update32(self.csum, old, new)
            } else {
                // Bytes at odd offsets sum as if swapped: update with the word rotated
                // by 8 bits, which puts each byte at its position's parity.
                checksum::update32(self.csum, old.rotate_right(8), new.rotate_right(8))
            };
        }
        self.b
            .get_mut(at..at + 4)
            .ok_or(Error::Truncated)?
            .copy_from_slice(&new.to_be_bytes());
        Ok(())
    }

    /// The offset of the first option of `kind` with length `len`.
    fn option(&self, kind: u8, len: usize) -> Option<usize> {
        self.find(|k, l| k == kind && l == len)
    }

    /// The offset of a SACK option with a whole number of blocks.
    fn sack(&self) -> Option<usize> {
        self.find(|k, l| k == SACK && l >= 10 && (l - 2) % 8 == 0)
    }

    /// The offset of the first option `is_it(kind, len)` accepts, walking them as
    /// `tcp_options::parse` does.
    fn find(&self, is_it: impl Fn(u8, usize) -> bool) -> Option<usize> {
        let mut at = OPTIONS;
        while let Some(&kind) = self.b.get(at) {
            match kind {
                0 => return None,
                1 => {
                    at += 1;
                    continue;
                }
                _ => {}
            }
            let len = *self.b.get(at + 1)? as usize;
            if len < 2 || at + len > self.b.len() {
                return None;
            }
            if is_it(kind, len) {
                return Some(at);
            }
            at += len;
        }
        None
    }

    fn finish(self) -> Result<(), Error> {
        let c = self.csum.to_be_bytes();
        self.b
            .get_mut(CSUM..CSUM + 2)
            .ok_or(Error::Truncated)?
            .copy_from_slice(&c);
        Ok(())
    }
}
