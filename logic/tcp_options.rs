// SPDX-License-Identifier: GPL-2.0
//! The TCP options of a handshake (RFC 9293, 7323, 2018): read from the segments a SYN
//! proxy receives, and written into the ones it sends.
//!
//! [`parse`] reads the options area as the kernel's `tcp_parse_options` does: it stops at
//! an end-of-list or at a length that does not fit, and ignores an option of a known kind
//! but the wrong length. [`write`] lays them out as the kernel's `tcp_options_write` does
//! for a SYN or SYN+ACK, each aligned on four bytes (20 bytes at most).

/// End of option list.
const EOL: u8 = 0;
/// No operation (padding).
const NOP: u8 = 1;
const MSS: u8 = 2;
const WSCALE: u8 = 3;
const SACK_PERM: u8 = 4;
const TIMESTAMP: u8 = 8;

/// The most bytes [`write`] writes.
pub const MAX_WRITTEN: usize = 20;

/// A timestamp option's values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamp {
    pub val: u32,
    pub ecr: u32,
}

/// The handshake options of a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift, as sent (a receiver caps it at 14).
    pub wscale: Option<u8>,
    /// SACK permitted.
    pub sack_perm: bool,
    pub timestamp: Option<Timestamp>,
}

/// The options in `area`, the bytes of a TCP header after its first 20.
pub fn parse(area: &[u8]) -> Options {
    let mut o = Options::default();
    let mut rest = area;
    while let Some((&kind, after)) = rest.split_first() {
        match kind {
            EOL => break,
            NOP => {
                rest = after;
                continue;
            }
            _ => {}
        }
        let Some(&len) = after.first() else { break };
        let len = len as usize;
        let Some(body) = rest.get(2..len).filter(|_| len >= 2) else {
            break;
        };
        match (kind, body) {
            (MSS, &[a, b]) => o.mss = Some(u16::from_be_bytes([a, b])),
            (WSCALE, &[s]) => o.wscale = Some(s),
            (SACK_PERM, &[]) => o.sack_perm = true,
            (TIMESTAMP, &[a, b, c, d, e, f, g, h]) => {
                o.timestamp = Some(Timestamp {
                    val: u32::from_be_bytes([a, b, c, d]),
                    ecr: u32::from_be_bytes([e, f, g, h]),
                })
            }
            _ => {}
        }
        rest = rest.get(len..).unwrap_or(&[]);
    }
    o
}

/// Writes `o` at the start of `buf`; returns the bytes written (a multiple of 4, at most
/// [`MAX_WRITTEN`]), or `None` when `buf` is too small (nothing meaningful written).
pub fn write(buf: &mut [u8], o: &Options) -> Option<usize> {
    let mut w = Writer { buf, at: 0 };
    if let Some(mss) = o.mss {
        let [a, b] = mss.to_be_bytes();
        w.put(&[MSS, 4, a, b])?;
    }
    match (o.timestamp, o.sack_perm) {
        (Some(ts), sack) => {
            if sack {
                w.put(&[SACK_PERM, 2])?;
            } else {
                w.put(&[NOP, NOP])?;
            }
            w.put(&[TIMESTAMP, 10])?;
            w.put(&ts.val.to_be_bytes())?;
            w.put(&ts.ecr.to_be_bytes())?;
        }
        (None, true) => w.put(&[NOP, NOP, SACK_PERM, 2])?,
        (None, false) => {}
    }
    if let Some(s) = o.wscale {
        w.put(&[NOP, WSCALE, 3, s])?;
    }
    Some(w.at)
}

struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.at.checked_add(bytes.len())?;
        self.buf.get_mut(self.at..end)?.copy_from_slice(bytes);
        self.at = end;
        Some(())
    }
}
