// SPDX-License-Identifier: GPL-2.0

//! `packet_rewrite`: the NAT rewrites of a parsed packet, the TTL decrement and the RST
//! builder.
//!
//! Input: 8 bytes of parameters, then the packet (from its IP header on):
//! - byte 0: bit 0x80 fixes every checksum of the packet first (IP header, TCP/UDP with
//!   its pseudo-header, ICMP, an ICMP error's quoted IP header), so that the
//!   "valid stays valid" properties are exercised on most inputs; bit 0x40 then writes a
//!   computed 0x0000 as 0xFFFF (the other zero of ones' complement, also valid) and a UDP
//!   checksum as 0 (none); bit 0x20 asks the RST for an ACK;
//! - bytes 1..5: the new address; bytes 5..7: the new port;
//! - byte 7: a buffer length, for the rewrites on a truncated buffer and the RST buffer.
//!
//! Properties, for both sides and both checksum modes (TCP/UDP), and both outer sides (ICMP
//! errors):
//! - a rewrite of a packet in the buffer it was parsed from succeeds, changes only the
//!   address, port and checksum fields it is meant to (never a length), and writes the
//!   new address and port there;
//! - every checksum it updates keeps its ones' complement sum (so a checksum that verified
//!   still verifies, and one that did not still does not), and a checksum that was the one
//!   a full computation gives is again exactly the one a full computation gives (RFC 1624
//!   eq. 3 never yields the other zero); UDP's "no checksum" 0 stays 0; a partial
//!   (offloaded) field tracks the pseudo-header sum;
//! - the rewritten packet parses to the same packet but for those fields;
//! - on a truncated buffer a rewrite either gives the same bytes or fails with
//!   `OutOfBounds` having written nothing; a rewrite of the wrong kind fails with
//!   `WrongKind` having written nothing;
//! - `decrement_ttl` lowers the TTL by one keeping the header checksum, or refuses a TTL
//!   of 0 or 1 untouched;
//! - `build_tcp_rst` writes a packet that parses to the reset asked for, with both
//!   checksums exactly right, and writes nothing past it, or nothing at all into a buffer
//!   too small;
//! - `checksum::checksum` and `checksum::transport_checksum` agree with the reference.
#![no_main]

use ipvsd_logic::checksum;
use ipvsd_logic::packet::{
    build_tcp_rst, decrement_ttl, parse, rewrite, rewrite_icmp_error, CsumMode, Packet, Reset,
    RewriteError, Side, Tcp, Transport, IPPROTO_TCP, RST_LEN,
};
use ipvsd_logic::tcp_state::TcpFlags;
use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;
use common::{be16, fresh, hex, oc_eq, pseudo, ref_fold, ref_sum};

const PARAMS: usize = 8;

fn addr_off(side: Side) -> usize {
    match side {
        Side::Source => 12,
        Side::Destination => 16,
    }
}

fn port_off(side: Side) -> usize {
    match side {
        Side::Source => 0,
        Side::Destination => 2,
    }
}

/// The two words of an address, summed (what it adds to a ones' complement sum).
fn words(a: u32) -> u64 {
    u64::from(a >> 16) + u64::from(a & 0xffff)
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// A fresh checksum, written as 0xFFFF instead of 0 when `ones` is set.
fn zero_as(c: u16, ones: bool) -> u16 {
    if c == 0 && ones {
        0xffff
    } else {
        c
    }
}

/// Writes every checksum of the parsed packet `p` so that it verifies.
fn fix_checksums(b: &mut [u8], p: &Packet, ones: bool) {
    let (hl, total, l4) = (p.ip.header_len, p.ip.total_len, p.l4_offset());
    match p.transport {
        Transport::Tcp(_) => {
            let ps = pseudo(p.ip.src, p.ip.dst, 6, total - hl);
            let c = fresh(&b[l4..total], 16, ps);
            put16(b, l4 + 16, zero_as(c, ones));
        }
        Transport::Udp(u) => {
            let len = usize::from(u.length);
            let ps = pseudo(p.ip.src, p.ip.dst, 17, len);
            let c = fresh(&b[l4..l4 + len], 6, ps);
            // A computed 0 is always sent as 0xFFFF, since 0 means none: which `ones`
            // asks for instead.
            let c = match (ones, c) {
                (true, _) => 0,
                (false, 0) => 0xffff,
                (false, c) => c,
            };
            put16(b, l4 + 6, c);
        }
        Transport::Icmp(i) => {
            if let Some(q) = i.quote {
                let c = fresh(&b[q.offset..q.offset + q.header_len], 10, 0);
                put16(b, q.offset + 10, zero_as(c, ones));
            }
            let c = fresh(&b[l4..total], 2, 0);
            put16(b, l4 + 2, zero_as(c, ones));
        }
        Transport::Other => {}
    }
    let c = fresh(&b[..hl], 10, 0);
    put16(b, 10, zero_as(c, ones));
}

/// Only the bytes in `allowed` (ranges) differ between `before` and `after`.
fn only_changed(before: &[u8], after: &[u8], allowed: &[(usize, usize)], what: &str) {
    assert_eq!(before.len(), after.len());
    for (i, (x, y)) in before.iter().zip(after).enumerate() {
        if x != y {
            assert!(
                allowed.iter().any(|&(s, l)| (s..s + l).contains(&i)),
                "{what} changed byte {i} ({x:02x} -> {y:02x}) of {}",
                hex(before)
            );
        }
    }
}

/// A checksum over `range` of the packet (with `init` for a pseudo-header) whose field is
/// at `field`: the sum is kept, and a checksum that was exactly the computed one is again.
fn csum_kept(
    before: &[u8],
    after: &[u8],
    range: (usize, usize),
    field: usize,
    init: (u64, u64),
    what: &str,
) {
    let (s, e) = range;
    let sb = ref_sum(&before[s..e], init.0);
    let sa = ref_sum(&after[s..e], init.1);
    assert!(
        oc_eq(sb, sa),
        "{what}: the checksum sum changed on {}",
        hex(before)
    );
    if be16(before, s + field) == fresh(&before[s..e], field, init.0) {
        assert_eq!(
            be16(after, s + field),
            fresh(&after[s..e], field, init.1),
            "{what}: an exact checksum became the other zero on {}",
            hex(before)
        );
    }
}

/// The rewrite `f` on every truncation of `before` to `k` bytes: the same bytes as on the
/// whole buffer (`whole`), or `OutOfBounds` with nothing written.
fn truncated(
    before: &[u8],
    whole: &[u8],
    k: usize,
    f: impl Fn(&mut [u8]) -> Result<(), RewriteError>,
) {
    let k = k.min(before.len());
    let mut t = before[..k].to_vec();
    match f(&mut t) {
        Ok(()) => assert_eq!(t, whole[..k], "truncated rewrite differs"),
        Err(e) => {
            assert_eq!(e, RewriteError::OutOfBounds);
            assert_eq!(t, before[..k], "a failed rewrite wrote");
        }
    }
}

fn tcp_udp(b: &[u8], p: &Packet, addr: u32, port: u16, k: usize, fix: bool) {
    let (hl, total, l4) = (p.ip.header_len, p.ip.total_len, p.l4_offset());
    let (field, proto, len, is_udp) = match p.transport {
        Transport::Tcp(_) => (16, 6, total - hl, false),
        Transport::Udp(u) => (6, 17, usize::from(u.length), true),
        _ => unreachable!(),
    };
    for side in [Side::Source, Side::Destination] {
        for mode in [CsumMode::Full, CsumMode::Partial] {
            let mut before = b.to_vec();
            if mode == CsumMode::Partial && fix {
                // An offloaded checksum: the field holds the folded pseudo-header sum.
                let c = ref_fold(pseudo(p.ip.src, p.ip.dst, proto, len));
                put16(&mut before, l4 + field, c);
            }
            let mut after = before.clone();
            rewrite(&mut after, p, side, addr, port, mode).expect("rewrite of a parsed packet");
            let what = format!("rewrite {side:?} {mode:?}");
            only_changed(
                &before,
                &after,
                &[
                    (10, 2),
                    (addr_off(side), 4),
                    (l4 + port_off(side), 2),
                    (l4 + field, 2),
                ],
                &what,
            );
            assert_eq!(
                after[addr_off(side)..addr_off(side) + 4],
                addr.to_be_bytes()
            );
            assert_eq!(be16(&after, l4 + port_off(side)), port);

            let (old_addr, (src, dst)) = match side {
                Side::Source => (p.ip.src, (addr, p.ip.dst)),
                Side::Destination => (p.ip.dst, (p.ip.src, addr)),
            };
            csum_kept(&before, &after, (0, hl), 10, (0, 0), &format!("{what}: IP"));
            let old_csum = be16(&before, l4 + field);
            let new_csum = be16(&after, l4 + field);
            match mode {
                CsumMode::Full if is_udp && old_csum == 0 => {
                    assert_eq!(new_csum, 0, "{what}: UDP's no-checksum 0 changed");
                }
                CsumMode::Full => {
                    let init = (
                        pseudo(p.ip.src, p.ip.dst, proto, len),
                        pseudo(src, dst, proto, len),
                    );
                    let range = (l4, l4 + len);
                    if is_udp {
                        assert_ne!(new_csum, 0, "{what}: a UDP checksum became 0 (none)");
                        let sb = ref_sum(&before[l4..l4 + len], init.0);
                        let sa = ref_sum(&after[l4..l4 + len], init.1);
                        assert!(oc_eq(sb, sa), "{what}: UDP sum changed on {}", hex(b));
                        let on_wire = |c: u16| if c == 0 { 0xffff } else { c };
                        if old_csum == on_wire(fresh(&before[l4..l4 + len], field, init.0)) {
                            assert_eq!(
                                new_csum,
                                on_wire(fresh(&after[l4..l4 + len], field, init.1)),
                                "{what}: UDP checksum not exact on {}",
                                hex(b)
                            );
                        }
                    } else {
                        csum_kept(&before, &after, range, field, init, &format!("{what}: TCP"));
                    }
                }
                CsumMode::Partial => {
                    assert!(
                        oc_eq(
                            u64::from(new_csum) + words(old_addr),
                            u64::from(old_csum) + words(addr)
                        ),
                        "{what}: the partial field does not track the address on {}",
                        hex(b)
                    );
                    if old_csum == ref_fold(pseudo(p.ip.src, p.ip.dst, proto, len)) {
                        assert_eq!(new_csum, ref_fold(pseudo(src, dst, proto, len)));
                    }
                }
            }

            // The rewritten packet parses to the same packet but for those fields.
            let mut want = *p;
            want.ip.checksum = be16(&after, 10);
            (want.ip.src, want.ip.dst) = (src, dst);
            match &mut want.transport {
                Transport::Tcp(t) => {
                    t.checksum = new_csum;
                    *[&mut t.src_port, &mut t.dst_port][port_off(side) / 2] = port;
                }
                Transport::Udp(u) => {
                    u.checksum = new_csum;
                    *[&mut u.src_port, &mut u.dst_port][port_off(side) / 2] = port;
                }
                _ => unreachable!(),
            }
            assert_eq!(parse(&after), Ok(want), "{what}: reparse on {}", hex(b));

            truncated(&before, &after, k, |t| {
                rewrite(t, p, side, addr, port, mode)
            });
        }
    }
    let mut c = b.to_vec();
    let r = rewrite_icmp_error(&mut c, p, Side::Source, addr, port);
    assert_eq!(r, Err(RewriteError::WrongKind));
    assert_eq!(c, b);
}

fn icmp_error(b: &[u8], p: &Packet, addr: u32, port: u16, k: usize) {
    let Transport::Icmp(i) = p.transport else {
        unreachable!()
    };
    let q = i.quote.expect("an ICMP error with a quote");
    let (hl, total, l4) = (p.ip.header_len, p.ip.total_len, p.l4_offset());
    for outer in [Side::Source, Side::Destination] {
        let inner = outer.opposite();
        let mut after = b.to_vec();
        rewrite_icmp_error(&mut after, p, outer, addr, port).expect("ICMP error rewrite");
        let what = format!("rewrite_icmp_error {outer:?}");
        let port_at = q.offset + q.header_len + port_off(inner);
        // The quoted TCP or UDP checksum, when the packet holds it.
        let l4_csum_at = q.offset + q.header_len + if q.protocol == 6 { 16 } else { 6 };
        only_changed(
            b,
            &after,
            &[
                (10, 2),
                (addr_off(outer), 4),
                (l4 + 2, 2),
                (q.offset + 10, 2),
                (q.offset + addr_off(inner), 4),
                (port_at, 2),
                (l4_csum_at, 2),
            ],
            &what,
        );
        assert_eq!(
            after[addr_off(outer)..addr_off(outer) + 4],
            addr.to_be_bytes()
        );
        let qa = q.offset + addr_off(inner);
        assert_eq!(after[qa..qa + 4], addr.to_be_bytes());
        assert_eq!(be16(&after, port_at), port);

        csum_kept(b, &after, (0, hl), 10, (0, 0), &format!("{what}: outer IP"));
        csum_kept(
            b,
            &after,
            (q.offset, q.offset + q.header_len),
            10,
            (0, 0),
            &format!("{what}: quoted IP"),
        );
        csum_kept(b, &after, (l4, total), 2, (0, 0), &format!("{what}: ICMP"));

        let mut want = *p;
        want.ip.checksum = be16(&after, 10);
        match outer {
            Side::Source => want.ip.src = addr,
            Side::Destination => want.ip.dst = addr,
        }
        let Transport::Icmp(wi) = &mut want.transport else {
            unreachable!()
        };
        wi.checksum = be16(&after, l4 + 2);
        let wq = wi.quote.as_mut().expect("quote");
        wq.checksum = be16(&after, q.offset + 10);
        match inner {
            Side::Source => (wq.src, wq.src_port) = (addr, port),
            Side::Destination => (wq.dst, wq.dst_port) = (addr, port),
        }
        assert_eq!(parse(&after), Ok(want), "{what}: reparse on {}", hex(b));

        truncated(b, &after, k, |t| {
            rewrite_icmp_error(t, p, outer, addr, port)
        });
    }
    let mut c = b.to_vec();
    let r = rewrite(&mut c, p, Side::Source, addr, port, CsumMode::Full);
    assert_eq!(r, Err(RewriteError::WrongKind));
    assert_eq!(c, b);
}

fn ttl(b: &[u8], p: Option<&Packet>) {
    let mut after = b.to_vec();
    match decrement_ttl(&mut after) {
        Err(e) => {
            assert_eq!(after, b, "a refused TTL decrement wrote");
            // The TTL word (bytes 8..10) is read first, the checksum only for a TTL > 1.
            if b.len() < 10 || (b[8] > 1 && b.len() < 12) {
                assert_eq!(e, RewriteError::OutOfBounds);
            } else {
                assert_eq!(e, RewriteError::WrongKind);
                assert!(b[8] <= 1, "TTL {} refused", b[8]);
            }
        }
        Ok(()) => {
            assert!(b[8] > 1, "TTL {} decremented", b[8]);
            assert_eq!(after[8], b[8] - 1);
            only_changed(b, &after, &[(8, 1), (10, 2)], "decrement_ttl");
            if let Some(p) = p {
                csum_kept(b, &after, (0, p.ip.header_len), 10, (0, 0), "decrement_ttl");
            }
        }
    }
}

fn rst(p: Option<&Packet>, params: &[u8], ack: bool) {
    let word = |at: usize| u32::from_be_bytes([params[at], params[at + 1], 0, 0]);
    // The reset for a parsed TCP packet, as the director sends it, or one of the params.
    let r = match p.map(|p| (p.ip, p.transport)) {
        Some((ip, Transport::Tcp(t))) => Reset {
            src: ip.dst,
            dst: ip.src,
            src_port: t.dst_port,
            dst_port: t.src_port,
            seq: t.ack_seq,
            ack_seq: ack.then(|| t.seq.wrapping_add(1)),
        },
        _ => Reset {
            src: u32::from_be_bytes([params[1], params[2], params[3], params[4]]),
            dst: word(5) | u32::from(params[0]),
            src_port: u16::from_be_bytes([params[5], params[6]]),
            dst_port: u16::from_be_bytes([params[3], params[4]]),
            seq: word(1) | word(3) >> 16,
            ack_seq: ack.then(|| word(2)),
        },
    };
    let len = usize::from(params[7]);
    let mut out = vec![0xa5u8; len];
    match build_tcp_rst(&mut out, &r) {
        Err(e) => {
            assert!(len < RST_LEN);
            assert_eq!(e, RewriteError::BufferTooSmall);
            assert!(out.iter().all(|&x| x == 0xa5), "a refused RST wrote");
        }
        Ok(n) => {
            assert_eq!(n, RST_LEN);
            assert!(len >= RST_LEN);
            assert!(
                out[n..].iter().all(|&x| x == 0xa5),
                "the RST wrote past its end"
            );
            let pkt = parse(&out[..n]).expect("the RST parses");
            // Bytes past it (link padding) change nothing.
            assert_eq!(parse(&out), Ok(pkt));
            assert_eq!((pkt.ip.src, pkt.ip.dst), (r.src, r.dst));
            assert_eq!((pkt.ip.ttl, pkt.ip.protocol, pkt.ip.total_len), (64, 6, 40));
            assert!(pkt.ip.dont_fragment);
            assert_eq!(pkt.ip.checksum, fresh(&out[..20], 10, 0));
            let flags = if r.ack_seq.is_some() {
                TcpFlags::RST | TcpFlags::ACK
            } else {
                TcpFlags::RST
            };
            let tcp_csum = fresh(&out[20..40], 16, pseudo(r.src, r.dst, IPPROTO_TCP, 20));
            let want = Tcp {
                src_port: r.src_port,
                dst_port: r.dst_port,
                seq: r.seq,
                ack_seq: r.ack_seq.unwrap_or(0),
                header_len: 20,
                flags: TcpFlags(flags),
                window: 0,
                checksum: tcp_csum,
            };
            assert_eq!(pkt.transport, Transport::Tcp(want), "the RST's TCP header");
        }
    }
}

/// `ipvsd_logic::checksum` against the reference on the packet's bytes.
fn checksum_module(b: &[u8], params: &[u8]) {
    assert_eq!(checksum::checksum(b), !ref_fold(ref_sum(b, 0)));
    assert_eq!(checksum::fold(checksum::sum(b, 7)), ref_fold(ref_sum(b, 7)));
    if b.len() >= 2 && b.len() <= 0xffff {
        // An even offset: its callers' fields (TCP 16, UDP 6) are; at an odd one the
        // field is not a word of the sum and "taking it back out" cannot work.
        let field = usize::from(params[7]).min(b.len() - 2) & !1;
        let (src, dst) = (common::be32(params, 1), common::be32(params, 3));
        let ps = pseudo(src, dst, params[0], b.len());
        assert_eq!(
            checksum::transport_checksum(src, dst, params[0], b, field),
            Some(fresh(b, field, ps))
        );
    }
    let old = be16(params, 1);
    let new = be16(params, 3);
    let hc = be16(params, 5);
    let sum = u64::from(!hc) + 0xffff - u64::from(old) + u64::from(new);
    assert!(oc_eq(u64::from(!checksum::update16(hc, old, new)), sum));
}

fuzz_target!(|data: &[u8]| {
    if data.len() < PARAMS {
        return;
    }
    let (params, pkt) = data.split_at(PARAMS);
    let fix = params[0] & 0x80 != 0;
    let ones = params[0] & 0x40 != 0;
    let ack = params[0] & 0x20 != 0;
    let addr = u32::from_be_bytes([params[1], params[2], params[3], params[4]]);
    let port = u16::from_be_bytes([params[5], params[6]]);
    let k = usize::from(params[7]);

    checksum_module(pkt, params);
    let mut b = pkt.to_vec();
    let parsed = parse(&b).ok();
    if let (Some(p), true) = (parsed, fix) {
        fix_checksums(&mut b, &p, ones);
    }
    // Fixing checksums changes no parsed field but the checksums.
    let p = parse(&b).ok();
    assert_eq!(p.is_some(), parsed.is_some());

    ttl(&b, p.as_ref());
    rst(p.as_ref(), params, ack);
    let Some(p) = p else {
        return;
    };
    match p.transport {
        Transport::Tcp(_) | Transport::Udp(_) => tcp_udp(&b, &p, addr, port, k, fix),
        Transport::Icmp(i) if i.quote.is_some() => icmp_error(&b, &p, addr, port, k),
        _ => {
            let mut c = b.clone();
            let r = rewrite(&mut c, &p, Side::Destination, addr, port, CsumMode::Full);
            assert_eq!(r, Err(RewriteError::WrongKind));
            let r = rewrite_icmp_error(&mut c, &p, Side::Destination, addr, port);
            assert_eq!(r, Err(RewriteError::WrongKind));
            assert_eq!(c, b);
        }
    }
});
