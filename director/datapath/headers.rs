// SPDX-License-Identifier: GPL-2.0

//! Reading and rewriting a packet's headers in its `sk_buff`.

use crate::director::{config::ServiceKey, fault};
use crate::logic::{
    packet::{self, CsumMode, Icmp, Packet, Side, Transport, MAX_HEADERS},
    proto::ipproto,
    synproxy,
};
use kernel::{
    net::skbuff::{ChecksumState, SkBuff},
    prelude::*,
};

/// Bytes of a packet's start that hold its IPv4 header (at most 60) and ports.
pub(super) const HEADER_AND_PORTS: usize = 64;

/// The packet's first bytes, up to `N` ([`HEADER_AND_PORTS`] to decide whether it is ours,
/// [`MAX_HEADERS`] to parse it): in place when they are linear, else copied into `buf`.
pub(super) fn first_bytes<'a, const N: usize>(
    skb: &'a SkBuff,
    buf: &'a mut [u8; N],
) -> Option<&'a [u8]> {
    let n = (skb.network_len() as usize).min(N);
    skb.network_bytes(n, buf)
}

/// Whether the packet whose first bytes are `h` is ICMP that may quote a flow of ours: an
/// error type ([`Icmp::is_error_type`]), or a fragment past the first, whose type is not
/// in it. Echo requests and the like are never ours.
pub(super) fn may_be_icmp_error(h: &[u8]) -> bool {
    if h.get(9) != Some(&packet::IPPROTO_ICMP) {
        return false;
    }
    let ihl = usize::from(h.first().map_or(0, |b| b & 0x0f)) * 4;
    let later_fragment = h
        .get(6..8)
        .is_some_and(|f| u16::from_be_bytes([f[0], f[1]]) & 0x1fff != 0);
    later_fragment || h.get(ihl).is_some_and(|&t| Icmp::is_error_type(t))
}

/// Protocol, address and port of one side of a TCP or UDP packet, read without full
/// parsing, to decide quickly whether it is ours at all: the destination for a service, the
/// source for a real server.
pub(super) fn quick_key(h: &[u8], side: Side) -> Option<ServiceKey> {
    let proto = *h.get(9)?;
    if proto != ipproto::TCP && proto != ipproto::UDP {
        return None;
    }
    let ihl = usize::from(*h.first()? & 0x0f) * 4;
    let (a, p) = match side {
        Side::Source => (12, ihl),
        Side::Destination => (16, ihl + 2),
    };
    let addr: [u8; 4] = h.get(a..a + 4)?.try_into().ok()?;
    let port = u16::from_be_bytes(h.get(p..p + 2)?.try_into().ok()?);
    Some(ServiceKey { proto, addr, port })
}

/// Bytes of IP and transport headers the rewrite touches.
fn header_bytes(pkt: &Packet) -> u32 {
    let l4 = match pkt.transport {
        Transport::Tcp(t) => t.header_len,
        _ => packet::UDP_HEADER,
    };
    (pkt.l4_offset() + l4) as u32
}

/// Rewrites one side of the packet's addresses and ports in place.
pub(super) fn rewrite(skb: &mut SkBuff, pkt: &Packet, side: Side, addr: u32, port: u16) -> Result {
    let mode = csum_mode(skb);
    fault::rewrite()?;
    let hdr = skb.writable_network(header_bytes(pkt))?;
    packet::rewrite(hdr, pkt, side, addr, port, mode).map_err(|_| EINVAL)?;
    skb.drop_complete_checksum();
    Ok(())
}

/// Applies `f` to the packet's TCP header (options included), made writable, with the
/// checksum mode the packet is in.
pub(super) fn translate(
    skb: &mut SkBuff,
    pkt: &Packet,
    f: impl FnOnce(&mut [u8], CsumMode) -> core::result::Result<(), synproxy::Error>,
) -> Result {
    let mode = csum_mode(skb);
    let l4 = pkt.l4_offset();
    let hdr = skb.writable_network(header_bytes(pkt))?;
    f(hdr.get_mut(l4..).ok_or(EINVAL)?, mode).map_err(|_| EINVAL)?;
    skb.drop_complete_checksum();
    Ok(())
}

fn csum_mode(skb: &SkBuff) -> CsumMode {
    if skb.checksum_state() == ChecksumState::Partial {
        CsumMode::Partial
    } else {
        CsumMode::Full
    }
}

/// Copies the packet's first bytes (all its headers, for a well-formed packet) into `buf`,
/// wherever they lie in the `sk_buff`, for a caller that rewrites the packet while it still
/// reads them; returns them.
pub(super) fn copy_headers<'a>(skb: &SkBuff, buf: &'a mut [u8; MAX_HEADERS]) -> Option<&'a [u8]> {
    let n = (skb.network_len() as usize).min(MAX_HEADERS);
    let h = buf.get_mut(..n)?;
    skb.copy_network(0, h).ok()?;
    Some(h)
}
