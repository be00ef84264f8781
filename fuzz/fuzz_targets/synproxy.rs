// SPDX-License-Identifier: GPL-2.0

//! `synproxy`: the SYN proxy's handshake options and its translation of a connection's TCP
//! headers, on arbitrary bytes.
//!
//! Input: 10 bytes of parameters, then a TCP segment (header and payload):
//! - bytes 0..4: the sequence shift; bytes 4..8: the timestamp shift; byte 8: the server's
//!   window scale (low nibble) and the director's (high nibble); byte 9: bit 0 picks the
//!   direction (client or server), bit 1 fixes the segment's checksum first (for a fixed
//!   pseudo-header), so that "valid stays valid" is exercised on most inputs, bit 2 picks
//!   the offloaded (partial) checksum mode.
//!
//! Properties:
//! - `tcp_options::parse` never panics on the option area, and what it read, written by
//!   `tcp_options::write`, reads back the same;
//! - a translation either fails with `Truncated` having written nothing (a header shorter
//!   than 20 bytes or than its data offset), or changes only the header: never its ports,
//!   data offset, flags, urgent pointer or any option's kind or length, never the payload;
//! - in the full mode the checksum keeps its ones' complement sum (a segment that verified
//!   still verifies); in the partial mode the checksum field is left alone;
//! - the sequence number (from the server) or the acknowledgment number (from the client,
//!   with ACK) moves by exactly the shift.
#![no_main]

use ipvsd_logic::packet::CsumMode;
use ipvsd_logic::synproxy::{to_client, to_server, Error, Translation};
use ipvsd_logic::tcp_options;
use ipvsd_logic::tcp_state::TcpFlags;
use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;
use common::{fresh, pseudo, verifies};

const PARAMS: usize = 10;
const SRC: u32 = 0xc633_6402;
const DST: u32 = 0xc612_0001;

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The offsets of the option bytes that give the options' layout (kinds and lengths), as
/// the translation walks them.
fn layout(h: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 20;
    while at < h.len() {
        out.push(at);
        match h[at] {
            0 => break,
            1 => at += 1,
            _ => {
                if at + 1 >= h.len() {
                    break;
                }
                out.push(at + 1);
                let len = h[at + 1] as usize;
                if len < 2 || at + len > h.len() {
                    break;
                }
                at += len;
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((p, seg)) = data.split_at_checked(PARAMS) else {
        return;
    };
    let t = Translation {
        seq: u32::from_be_bytes([p[0], p[1], p[2], p[3]]),
        ts: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        server_wscale: p[8] & 0x0f,
        client_wscale: p[8] >> 4,
    };
    let from_server = p[9] & 1 != 0;
    let mode = if p[9] & 4 != 0 {
        CsumMode::Partial
    } else {
        CsumMode::Full
    };
    let mut seg = seg.to_vec();
    let init = pseudo(SRC, DST, 6, seg.len());
    if p[9] & 2 != 0 && seg.len() >= 20 {
        let c = fresh(&seg, 16, init);
        seg[16..18].copy_from_slice(&c.to_be_bytes());
    }
    let hl = seg.get(12).map_or(0, |b| (b >> 4) as usize * 4);
    if let Some(area) = seg.get(20..hl) {
        let o = tcp_options::parse(area);
        let mut buf = [0u8; tcp_options::MAX_WRITTEN];
        if let Some(n) = tcp_options::write(&mut buf, &o) {
            assert_eq!(tcp_options::parse(&buf[..n]), o);
        }
    }
    let before = seg.clone();
    let valid = verifies(&seg, init);
    let r = if from_server {
        to_client(&mut seg, &t, mode)
    } else {
        to_server(&mut seg, &t, mode)
    };
    match r {
        Err(Error::Truncated) => {
            assert!(hl < 20 || hl > before.len(), "refused a whole header");
            assert_eq!(seg, before, "wrote into a header it refused");
        }
        Ok(()) => {
            assert!(hl >= 20 && hl <= before.len());
            // Ports, data offset, flags, urgent pointer, option layout and payload stay.
            for at in [0, 1, 2, 3, 12, 13, 18, 19].into_iter().chain(layout(&before[..hl])) {
                assert_eq!(seg[at], before[at], "byte {at} changed");
            }
            assert_eq!(seg[hl..], before[hl..], "the payload changed");
            match mode {
                CsumMode::Full => {
                    assert_eq!(verifies(&seg, init), valid, "the checksum's sum changed")
                }
                CsumMode::Partial => assert_eq!(seg[16..18], before[16..18]),
            }
            if from_server {
                assert_eq!(be32(&seg, 4), be32(&before, 4).wrapping_add(t.seq));
            } else if before[13] & TcpFlags::ACK != 0 {
                assert_eq!(be32(&seg, 8), be32(&before, 8).wrapping_sub(t.seq));
            }
        }
    }
});
