// SPDX-License-Identifier: GPL-2.0
//! Packet parsing (every malformation, and no panic on random or mutated bytes) and the
//! checksum rewrite: incremental updates against full recomputation over 100,000 random
//! packets and rewrites.

mod common;

use common::Rng;
use ipvsd_logic::checksum;
use ipvsd_logic::packet::{
    build_tcp, build_tcp_rst, decrement_ttl, parse, parse_ipv4, rewrite, rewrite_icmp_error,
    CsumMode, ParseError, Reset, RewriteError, Segment, Side, Transport, IPPROTO_ICMP, IPPROTO_TCP,
    IPPROTO_UDP, RST_LEN, SEGMENT_MAX_LEN,
};
use ipvsd_logic::tcp_options;
use ipvsd_logic::tcp_state::TcpFlags;

// ----------------------------------------------------------------------------------------
// An independent reference: the RFC 1071 checksum written plainly, over whole buffers.

fn ref_sum(data: &[u8]) -> u32 {
    let mut s: u32 = 0;
    for pair in data.chunks(2) {
        let hi = u32::from(pair[0]) << 8;
        let lo = pair.get(1).map_or(0, |&b| u32::from(b));
        s += hi | lo;
    }
    s
}

fn ref_fold(mut s: u32) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// The IPv4 header checksum of the header at `ip`, computed afresh.
fn ref_ip_csum(b: &[u8], ip: usize) -> u16 {
    let ihl = usize::from(b[ip] & 0x0f) * 4;
    let mut h = b[ip..ip + ihl].to_vec();
    h[10] = 0;
    h[11] = 0;
    !ref_fold(ref_sum(&h))
}

/// The TCP or UDP checksum of the packet, computed afresh (UDP's 0 sent as 0xFFFF).
fn ref_l4_csum(b: &[u8]) -> u16 {
    let ihl = usize::from(b[0] & 0x0f) * 4;
    let total = usize::from(be16(b, 2));
    let proto = b[9];
    let mut seg = b[ihl..total].to_vec();
    let (field, len) = if proto == IPPROTO_TCP {
        (16, seg.len())
    } else {
        (6, usize::from(be16(&seg, 4)))
    };
    seg.truncate(len);
    seg[field] = 0;
    seg[field + 1] = 0;
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&b[12..20]);
    pseudo.extend_from_slice(&[0, proto]);
    pseudo.extend_from_slice(&(len as u16).to_be_bytes());
    let c = !ref_fold(ref_sum(&pseudo) + ref_sum(&seg));
    if proto == IPPROTO_UDP && c == 0 {
        0xffff
    } else {
        c
    }
}

/// The ICMP checksum of the packet, computed afresh.
fn ref_icmp_csum(b: &[u8]) -> u16 {
    let ihl = usize::from(b[0] & 0x0f) * 4;
    let total = usize::from(be16(b, 2));
    let mut m = b[ihl..total].to_vec();
    m[2] = 0;
    m[3] = 0;
    !ref_fold(ref_sum(&m))
}

// ----------------------------------------------------------------------------------------
// Random valid packets.

fn ip_header(rng: &mut Rng, proto: u8, opt_words: usize, payload_len: usize) -> Vec<u8> {
    let ihl = 5 + opt_words;
    let total = ihl * 4 + payload_len;
    let mut h = vec![0u8; ihl * 4];
    h[0] = 0x40 | ihl as u8;
    h[1] = rng.next_u8();
    h[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    h[4..6].copy_from_slice(&rng.next_u16().to_be_bytes());
    h[6] = if rng.chance(1, 2) { 0x40 } else { 0 }; // DF or nothing
    h[8] = rng.next_u8();
    h[9] = proto;
    h[12..16].copy_from_slice(&rng.edgy_u32().to_be_bytes());
    h[16..20].copy_from_slice(&rng.edgy_u32().to_be_bytes());
    rng.fill(&mut h[20..]);
    h
}

/// A random TCP or UDP packet with correct checksums; sometimes a UDP checksum of 0
/// (none), sometimes a payload that makes the checksum itself 0 (UDP: 0xFFFF on the wire).
fn random_packet(rng: &mut Rng) -> Vec<u8> {
    let tcp = rng.chance(1, 2);
    let proto = if tcp { IPPROTO_TCP } else { IPPROTO_UDP };
    let l4_hdr = if tcp {
        20 + 4 * rng.below(11) as usize
    } else {
        8
    };
    let payload = if rng.chance(1, 4) {
        rng.below(4) as usize
    } else {
        rng.below(1400) as usize
    };
    let mut seg = vec![0u8; l4_hdr + payload];
    rng.fill(&mut seg);
    seg[0..2].copy_from_slice(&rng.edgy_u16().to_be_bytes());
    seg[2..4].copy_from_slice(&rng.edgy_u16().to_be_bytes());
    if tcp {
        seg[12] = ((l4_hdr / 4) as u8) << 4;
    } else {
        let len = seg.len() as u16;
        seg[4..6].copy_from_slice(&len.to_be_bytes());
    }
    let opt_words = rng.below(11) as usize;
    let mut p = ip_header(rng, proto, opt_words, seg.len());
    let ihl = p.len();
    p.extend_from_slice(&seg);
    // Link-layer padding after the datagram is ignored.
    if rng.chance(1, 8) {
        p.extend_from_slice(&[0xee; 6]);
    }
    let csum_at = ihl + if tcp { 16 } else { 6 };
    if payload >= 2 && rng.chance(1, 8) {
        // Choose a payload word that makes the sum 0xFFFF, i.e. the checksum 0.
        let w = ihl + l4_hdr;
        put16(&mut p, w, 0);
        let c = ref_l4_csum(&p);
        put16(&mut p, w, if !tcp && c == 0xffff { 0 } else { c });
    }
    let c = ref_l4_csum(&p);
    put16(&mut p, csum_at, c);
    if !tcp && rng.chance(1, 8) {
        put16(&mut p, csum_at, 0);
    }
    let c = ref_ip_csum(&p, 0);
    put16(&mut p, 10, c);
    p
}

// ----------------------------------------------------------------------------------------
// Checksum arithmetic.

#[test]
fn rfc1071_and_rfc1624_examples() {
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is 220d.
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(checksum::fold(checksum::sum(&data, 0)), 0xddf2);
    assert_eq!(checksum::checksum(&data), 0x220d);
    // RFC 1624 §4: HC = DD2F, m 5555 → 3285 gives 0000 by equation 3 (equation 2 gave FFFF).
    assert_eq!(checksum::update16(0xdd2f, 0x5555, 0x3285), 0x0000);
    // Odd length: the last byte is padded.
    assert_eq!(checksum::sum(&[0x12], 0), 0x1200);
    // UDP: no checksum stays none; a computed 0 is sent as FFFF.
    assert_eq!(checksum::udp_update16(0, 0x1234, 0x4321), 0);
    assert_eq!(checksum::udp_update16(0xdd2f, 0x5555, 0x3285), 0xffff);
    assert_eq!(checksum::udp_on_wire(0), 0xffff);
    assert_eq!(checksum::transport_checksum(1, 2, 6, &[0u8; 4], 3), None);
}

#[test]
fn property_incremental_update_equals_full_recomputation_100000() {
    let mut rng = Rng::new(0x1624);
    let mut kinds = [0u32; 4]; // TCP, UDP with checksum, UDP without, checksum-0 cases
    for n in 0..100_000 {
        let orig = random_packet(&mut rng);
        let pkt = parse(&orig).unwrap_or_else(|e| panic!("packet {n}: {e:?}"));
        let is_tcp = matches!(pkt.transport, Transport::Tcp(_));
        let csum_at = pkt.l4_offset() + if is_tcp { 16 } else { 6 };
        // UDP's 0 is "no checksum"; TCP's 0 is a checksum like any other.
        let had_csum = is_tcp || be16(&orig, csum_at) != 0;
        kinds[if is_tcp {
            0
        } else if had_csum {
            1
        } else {
            2
        }] += 1;
        if is_tcp && be16(&orig, csum_at) == 0 || !is_tcp && be16(&orig, csum_at) == 0xffff {
            kinds[3] += 1;
        }
        let side = if rng.chance(1, 2) {
            Side::Source
        } else {
            Side::Destination
        };
        let addr = rng.edgy_u32();
        let port = rng.edgy_u16();
        let mut p = orig.clone();
        rewrite(&mut p, &pkt, side, addr, port, CsumMode::Full).unwrap();

        let (a_at, p_at) = match side {
            Side::Source => (12, pkt.l4_offset()),
            Side::Destination => (16, pkt.l4_offset() + 2),
        };
        assert_eq!(be32(&p, a_at), addr);
        assert_eq!(be16(&p, p_at), port);
        assert_eq!(be16(&p, 10), ref_ip_csum(&p, 0), "packet {n}: IP checksum");
        let want = if had_csum { ref_l4_csum(&p) } else { 0 };
        assert_eq!(
            be16(&p, csum_at),
            want,
            "packet {n}: L4 checksum ({})",
            if is_tcp { "TCP" } else { "UDP" }
        );
        // Nothing else changed.
        let mut expect = orig.clone();
        for i in [
            a_at,
            a_at + 1,
            a_at + 2,
            a_at + 3,
            p_at,
            p_at + 1,
            10,
            11,
            csum_at,
            csum_at + 1,
        ] {
            expect[i] = p[i];
        }
        assert_eq!(expect, p, "packet {n}: other bytes changed");
        // Rewriting back restores the original bytes exactly.
        let back = parse(&p).unwrap();
        let (old_addr, old_port) = (be32(&orig, a_at), be16(&orig, p_at));
        rewrite(&mut p, &back, side, old_addr, old_port, CsumMode::Full).unwrap();
        assert_eq!(p, orig, "packet {n}: round trip");
    }
    println!(
        "checked TCP {}, UDP {}, UDP without checksum {}, checksum-zero cases {}",
        kinds[0], kinds[1], kinds[2], kinds[3]
    );
    assert!(kinds.iter().all(|&k| k > 1000));
}

#[test]
fn property_partial_checksums_track_the_pseudo_header() {
    let mut rng = Rng::new(0x9a);
    for _ in 0..20_000 {
        let mut p = random_packet(&mut rng);
        let pkt = parse(&p).unwrap();
        let tcp = matches!(pkt.transport, Transport::Tcp(_));
        let csum_at = pkt.l4_offset() + if tcp { 16 } else { 6 };
        let len = (pkt.ip.total_len - pkt.ip.header_len) as u16;
        let proto = pkt.ip.protocol;
        let partial = |b: &[u8]| ref_fold(ref_sum(&b[12..20]) + u32::from(proto) + u32::from(len));
        let field = partial(&p);
        put16(&mut p, csum_at, field);
        let side = if rng.chance(1, 2) {
            Side::Source
        } else {
            Side::Destination
        };
        rewrite(
            &mut p,
            &pkt,
            side,
            rng.edgy_u32(),
            rng.next_u16(),
            CsumMode::Partial,
        )
        .unwrap();
        assert_eq!(be16(&p, csum_at), partial(&p));
        assert_eq!(be16(&p, 10), ref_ip_csum(&p, 0));
    }
}

// ----------------------------------------------------------------------------------------
// ICMP errors.

/// An ICMP error (type 3 or 11) quoting the start of a random TCP/UDP packet.
fn random_icmp_error(rng: &mut Rng) -> Vec<u8> {
    random_icmp_error_quoting(rng).0
}

/// An ICMP error quoting the start of a random TCP/UDP packet, and that whole packet.
fn random_icmp_error_quoting(rng: &mut Rng) -> (Vec<u8>, Vec<u8>) {
    let quoted = random_packet(rng);
    let qlen = usize::from(be16(&quoted, 2));
    let keep = (usize::from(quoted[0] & 0x0f) * 4 + 8 + rng.below(40) as usize).min(qlen);
    let mut msg = vec![
        if rng.chance(1, 2) { 3 } else { 11 },
        rng.below(16) as u8,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    rng.fill(&mut msg[4..8]);
    msg.extend_from_slice(&quoted[..keep]);
    let opt_words = rng.below(3) as usize;
    let mut p = ip_header(rng, IPPROTO_ICMP, opt_words, msg.len());
    p.extend_from_slice(&msg);
    let ihl = p.len() - msg.len();
    let c = ref_icmp_csum(&p);
    put16(&mut p, ihl + 2, c);
    let c = ref_ip_csum(&p, 0);
    put16(&mut p, 10, c);
    (p, quoted)
}

#[test]
fn property_icmp_error_translation_keeps_every_checksum_right() {
    let mut rng = Rng::new(0x1c);
    let (mut l4_updated, mut l4_absent) = (0, 0);
    for n in 0..20_000 {
        let (mut p, mut whole) = random_icmp_error_quoting(&mut rng);
        if whole[9] == IPPROTO_UDP && rng.chance(1, 8) {
            // A UDP datagram sent without a checksum.
            let at = usize::from(whole[0] & 0x0f) * 4 + 6;
            let l4 = parse(&p).unwrap().l4_offset();
            if l4 + 8 + at + 2 <= p.len() {
                put16(&mut whole, at, 0);
                put16(&mut p, l4 + 8 + at, 0);
                let c = ref_icmp_csum(&p);
                put16(&mut p, l4 + 2, c);
            }
        }
        let pkt = parse(&p).unwrap();
        let Transport::Icmp(icmp) = pkt.transport else {
            panic!("not ICMP")
        };
        let q = icmp.quote.expect("a TCP/UDP quote");
        assert_eq!(q.offset, pkt.l4_offset() + 8);
        assert_eq!(q.src, be32(&p, q.offset + 12));
        let outer = if rng.chance(1, 2) {
            Side::Source
        } else {
            Side::Destination
        };
        let (addr, port) = (rng.edgy_u32(), rng.edgy_u16());
        rewrite_icmp_error(&mut p, &pkt, outer, addr, port).unwrap();
        let (outer_at, inner_at, port_at) = match outer {
            Side::Source => (12, q.offset + 16, q.offset + q.header_len + 2),
            Side::Destination => (16, q.offset + 12, q.offset + q.header_len),
        };
        assert_eq!(be32(&p, outer_at), addr);
        assert_eq!(be32(&p, inner_at), addr);
        assert_eq!(be16(&p, port_at), port);
        assert_eq!(be16(&p, 10), ref_ip_csum(&p, 0), "{n}: outer IP checksum");
        assert_eq!(
            be16(&p, q.offset + 10),
            ref_ip_csum(&p, q.offset),
            "{n}: quoted IP checksum"
        );
        assert_eq!(
            be16(&p, pkt.l4_offset() + 2),
            ref_icmp_csum(&p),
            "{n}: ICMP checksum"
        );
        // The quoted TCP or UDP checksum, where the quote holds it, is the one of the whole
        // quoted packet translated (a UDP datagram without a checksum keeps none).
        let field = if q.protocol == IPPROTO_TCP { 16 } else { 6 };
        let l4_at = q.offset + q.header_len + field;
        let old = be16(&whole, q.header_len + field);
        let (w_addr, w_port) = match outer.opposite() {
            Side::Source => (12, q.header_len),
            Side::Destination => (16, q.header_len + 2),
        };
        whole[w_addr..w_addr + 4].copy_from_slice(&addr.to_be_bytes());
        put16(&mut whole, w_port, port);
        if l4_at + 2 > p.len() {
            l4_absent += 1;
        } else if q.protocol == IPPROTO_UDP && old == 0 {
            assert_eq!(be16(&p, l4_at), 0, "{n}: a UDP datagram without a checksum");
        } else {
            assert_eq!(
                be16(&p, l4_at),
                ref_l4_csum(&whole),
                "{n}: quoted TCP/UDP checksum"
            );
            l4_updated += 1;
        }
    }
    assert!(
        l4_updated > 10_000 && l4_absent > 100,
        "{l4_updated} {l4_absent}"
    );
}

#[test]
fn icmp_quotes_that_are_not_tcp_or_udp_are_not_translated() {
    let mut rng = Rng::new(4);
    let mut p = random_icmp_error(&mut rng);
    let q = parse(&p).unwrap().l4_offset() + 8;
    p[q + 9] = IPPROTO_ICMP;
    let pkt = parse(&p).unwrap();
    assert!(matches!(pkt.transport, Transport::Icmp(i) if i.quote.is_none()));
    let mut copy = p.clone();
    assert_eq!(
        rewrite_icmp_error(&mut copy, &pkt, Side::Source, 1, 1),
        Err(RewriteError::WrongKind)
    );
    assert_eq!(copy, p);
    // An echo request has no quote.
    let mut echo = ip_header(&mut rng, IPPROTO_ICMP, 0, 12);
    echo.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4]);
    assert!(
        matches!(parse(&echo).unwrap().transport, Transport::Icmp(i) if i.quote.is_none() && i.icmp_type == 8)
    );
}

// ----------------------------------------------------------------------------------------
// Parsing.

/// A minimal valid TCP packet (20 + 20 bytes, no payload).
fn tcp_packet() -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x45;
    p[3] = 40;
    p[9] = IPPROTO_TCP;
    p[12..16].copy_from_slice(&[192, 0, 2, 1]);
    p[16..20].copy_from_slice(&[203, 0, 113, 10]);
    p[20..22].copy_from_slice(&40000u16.to_be_bytes());
    p[22..24].copy_from_slice(&80u16.to_be_bytes());
    p[24..28].copy_from_slice(&1000u32.to_be_bytes());
    p[32] = 0x50;
    p[33] = TcpFlags::SYN;
    p
}

fn udp_packet() -> Vec<u8> {
    let mut p = vec![0u8; 28];
    p[0] = 0x45;
    p[3] = 28;
    p[9] = IPPROTO_UDP;
    p[24..26].copy_from_slice(&8u16.to_be_bytes());
    p
}

#[test]
fn parses_the_fields() {
    let p = tcp_packet();
    let pkt = parse(&p).unwrap();
    assert_eq!(pkt.ip.src, 0xc000_0201);
    assert_eq!(pkt.ip.dst, 0xcb00_710a);
    assert_eq!(
        (pkt.ip.header_len, pkt.ip.total_len, pkt.ip.protocol),
        (20, 40, IPPROTO_TCP)
    );
    let Transport::Tcp(t) = pkt.transport else {
        panic!()
    };
    assert_eq!(
        (t.src_port, t.dst_port, t.seq, t.header_len),
        (40000, 80, 1000, 20)
    );
    assert_eq!(t.flags.event(), Some(ipvsd_logic::tcp_state::TcpEvent::Syn));
    assert_eq!(pkt.ports(), Some((40000, 80)));
    assert_eq!(pkt.payload_len(), 0);
    let u = parse(&udp_packet()).unwrap();
    assert!(matches!(u.transport, Transport::Udp(x) if x.length == 8));
    let mut other = udp_packet();
    other[9] = 47;
    assert_eq!(parse(&other).unwrap().transport, Transport::Other);
    assert_eq!(parse(&other).unwrap().ports(), None);
}

#[test]
fn every_malformation_has_its_error() {
    use ParseError::*;
    let cases: Vec<(ParseError, Vec<u8>)> = vec![
        (Ipv4Truncated, vec![]),
        (Ipv4Truncated, tcp_packet()[..19].to_vec()),
        (NotIpv4, {
            let mut p = tcp_packet();
            p[0] = 0x65;
            p
        }),
        (BadIhl, {
            let mut p = tcp_packet();
            p[0] = 0x44;
            p
        }),
        (HeaderBeyondBuffer, {
            let mut p = tcp_packet();
            p[0] = 0x4f;
            p.truncate(30);
            p
        }),
        (TotalLengthBelowHeader, {
            let mut p = tcp_packet();
            p[3] = 19;
            p
        }),
        (TotalLengthBeyondBuffer, {
            let mut p = tcp_packet();
            p[3] = 41;
            p
        }),
        (Fragment, {
            let mut p = tcp_packet();
            p[6] = 0x20;
            p
        }),
        (Fragment, {
            let mut p = tcp_packet();
            p[7] = 1;
            p
        }),
        (TcpTruncated, {
            let mut p = tcp_packet();
            p[3] = 39;
            p
        }),
        (TcpBadDataOffset, {
            let mut p = tcp_packet();
            p[32] = 0x40;
            p
        }),
        (TcpHeaderBeyondSegment, {
            let mut p = tcp_packet();
            p[32] = 0x60;
            p
        }),
        (UdpTruncated, {
            let mut p = udp_packet();
            p[3] = 27;
            p
        }),
        (UdpBadLength, {
            let mut p = udp_packet();
            p[25] = 7;
            p
        }),
        (UdpBadLength, {
            let mut p = udp_packet();
            p[25] = 9;
            p
        }),
        (IcmpTruncated, {
            let mut p = udp_packet();
            p[9] = IPPROTO_ICMP;
            p[3] = 27;
            p
        }),
        (IcmpBadQuote, {
            let mut p = udp_packet();
            p[9] = IPPROTO_ICMP;
            p[20] = 3;
            p
        }),
        (IcmpBadQuote, {
            let mut p = udp_packet();
            p[9] = IPPROTO_ICMP;
            p[20] = 11;
            p.extend_from_slice(&[
                0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0,
            ]);
            p[3] = p.len() as u8;
            p
        }),
    ];
    let mut seen = std::collections::HashSet::new();
    for (want, bytes) in cases {
        assert_eq!(parse(&bytes), Err(want), "{want:?}: {bytes:02x?}");
        seen.insert(want);
    }
    assert_eq!(seen.len(), ParseError::ALL.len(), "a case per reason");
    let mut names: Vec<&str> = ParseError::ALL.iter().map(|e| e.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), ParseError::ALL.len());
    // The IP header alone parses for fragments, so the data path can see the destination.
    let mut frag = tcp_packet();
    frag[6] = 0x20;
    let ip = parse_ipv4(&frag).unwrap();
    assert!(ip.is_fragment() && ip.more_fragments && ip.fragment_offset == 0);
    assert!(!ip.dont_fragment);
    let ip = parse_ipv4(&tcp_packet()).unwrap();
    assert_eq!(ip.dont_fragment, tcp_packet()[6] & 0x40 != 0);
    // A UDP length below the datagram is fine (the rest is ignored), padding too.
    let mut u = udp_packet();
    u.extend_from_slice(&[1, 2, 3]);
    u[3] = 31;
    assert_eq!(parse(&u).unwrap().payload_len(), 0);
}

#[test]
fn property_parser_never_panics_on_random_or_mutated_bytes() {
    let mut rng = Rng::new(0xf022);
    let mut outcomes = std::collections::HashMap::new();
    let seeds: Vec<Vec<u8>> = (0..64)
        .map(|i| {
            if i % 4 == 0 {
                random_icmp_error(&mut rng)
            } else {
                random_packet(&mut rng)
            }
        })
        .collect();
    for n in 0..1_000_000u32 {
        let mut b = if n % 4 == 0 {
            let mut v = vec![0u8; rng.below(100) as usize];
            rng.fill(&mut v);
            if !v.is_empty() && rng.chance(1, 2) {
                v[0] = 0x40 | (v[0] & 0x0f);
            }
            v
        } else {
            let mut v = seeds[rng.below(seeds.len() as u64) as usize].clone();
            for _ in 0..=rng.below(4) {
                match rng.below(4) {
                    0 if !v.is_empty() => {
                        let i = rng.below(v.len() as u64) as usize;
                        v[i] = rng.next_u8();
                    }
                    1 if !v.is_empty() => {
                        // Mutate the fields the parser trusts most.
                        let i = [0usize, 2, 3, 6, 9, 32, 24, 25][rng.below(8) as usize];
                        if i < v.len() {
                            v[i] = rng.next_u8();
                        }
                    }
                    2 => v.truncate(rng.below(v.len() as u64 + 1) as usize),
                    _ => v.extend((0..rng.below(8)).map(|_| rng.next_u8())),
                }
            }
            v
        };
        let r = parse(&b);
        *outcomes
            .entry(
                r.map(|p| std::mem::discriminant(&p.transport))
                    .map_err(|e| e.name()),
            )
            .or_insert(0u32) += 1;
        if let Ok(pkt) = r {
            assert!(pkt.ip.header_len >= 20 && pkt.ip.total_len <= b.len());
            assert!(pkt.ip.header_len <= pkt.ip.total_len);
            // Rewriting whatever parsed never panics, and neither does a rewrite with a
            // view that does not match the buffer.
            let _ = rewrite(&mut b, &pkt, Side::Destination, 1, 2, CsumMode::Full);
            let _ = rewrite_icmp_error(&mut b, &pkt, Side::Source, 1, 2);
            let mut short = b[..b.len() / 2].to_vec();
            let _ = rewrite(&mut short, &pkt, Side::Source, 1, 2, CsumMode::Full);
            let _ = rewrite_icmp_error(&mut short, &pkt, Side::Destination, 1, 2);
        }
    }
    // The fuzzing reached every error and every transport.
    for e in ParseError::ALL {
        assert!(
            outcomes.contains_key(&Err(e.name())),
            "never saw {e:?}: {outcomes:?}"
        );
    }
    assert_eq!(outcomes.len(), ParseError::ALL.len() + 4, "{outcomes:?}");
}

#[test]
fn builds_a_valid_reset() {
    let rst = Reset {
        src: 0xcb00_710a,
        dst: 0xc633_6402,
        src_port: 40000,
        dst_port: 8080,
        seq: 0xdead_beef,
        ack_seq: Some(7),
    };
    let mut buf = [0u8; 64];
    assert_eq!(build_tcp_rst(&mut buf, &rst), Ok(RST_LEN));
    let p = &buf[..RST_LEN];
    let pkt = parse(p).unwrap();
    assert_eq!(
        (pkt.ip.src, pkt.ip.dst, pkt.ip.total_len, pkt.ip.ttl),
        (rst.src, rst.dst, 40, 64)
    );
    let Transport::Tcp(t) = pkt.transport else {
        panic!()
    };
    assert_eq!(
        (t.src_port, t.dst_port, t.seq, t.ack_seq),
        (40000, 8080, 0xdead_beef, 7)
    );
    assert_eq!(t.flags, TcpFlags(TcpFlags::RST | TcpFlags::ACK));
    assert_eq!(be16(p, 10), ref_ip_csum(p, 0));
    assert_eq!(t.checksum, ref_l4_csum(p));
    let plain = Reset {
        ack_seq: None,
        ..rst
    };
    build_tcp_rst(&mut buf, &plain).unwrap();
    let Transport::Tcp(t) = parse(&buf[..RST_LEN]).unwrap().transport else {
        panic!()
    };
    assert_eq!(t.flags, TcpFlags(TcpFlags::RST));
    assert_eq!(
        build_tcp_rst(&mut [0u8; 39], &rst),
        Err(RewriteError::BufferTooSmall)
    );
}

#[test]
fn builds_a_valid_syn_ack_with_options() {
    let o = tcp_options::Options {
        mss: Some(1460),
        wscale: Some(7),
        sack_perm: true,
        timestamp: Some(tcp_options::Timestamp {
            val: 0x0102_0304,
            ecr: 0x0a0b_0c0d,
        }),
    };
    let s = Segment {
        src: 0xc000_0201,
        dst: 0xc612_0001,
        src_port: 80,
        dst_port: 40000,
        seq: 0x1234_5678,
        ack_seq: 0x9abc_def0,
        flags: TcpFlags::SYN | TcpFlags::ACK,
        window: 65535,
        options: o,
    };
    let mut buf = [0u8; SEGMENT_MAX_LEN];
    let n = build_tcp(&mut buf, &s).unwrap();
    assert_eq!(n, SEGMENT_MAX_LEN);
    let p = &buf[..n];
    let pkt = parse(p).unwrap();
    assert_eq!(
        (pkt.ip.src, pkt.ip.dst, pkt.ip.total_len as usize),
        (s.src, s.dst, n)
    );
    let Transport::Tcp(t) = pkt.transport else {
        panic!()
    };
    assert_eq!(
        (
            t.src_port,
            t.dst_port,
            t.seq,
            t.ack_seq,
            t.window,
            t.header_len
        ),
        (80, 40000, s.seq, s.ack_seq, 65535, 40)
    );
    assert_eq!(t.flags, TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
    assert_eq!(tcp_options::parse(&p[40..60]), o);
    assert_eq!(be16(p, 10), ref_ip_csum(p, 0));
    assert_eq!(t.checksum, ref_l4_csum(p));
    // Without options: a 40-byte segment.
    let bare = Segment {
        options: tcp_options::Options::default(),
        ..s
    };
    assert_eq!(build_tcp(&mut buf, &bare), Ok(40));
    assert_eq!(
        build_tcp(&mut [0u8; SEGMENT_MAX_LEN - 1], &s),
        Err(RewriteError::BufferTooSmall)
    );
}

/// `parse_headers` on the first bytes of a packet gives what `parse` gives on all of it,
/// and refuses what `parse` refuses.
#[test]
fn parse_headers_on_a_prefix_agrees_with_parse() {
    use ipvsd_logic::packet::{parse, parse_headers, MAX_HEADERS};
    let mut rng = Rng::new(0x5eed_1234);
    for i in 0..40_000 {
        let mut pkt = random_packet(&mut rng);
        if i % 2 == 1 && !pkt.is_empty() {
            // Half of them mutated: lengths, offsets and flags go wrong too.
            let at = rng.below(pkt.len() as u64) as usize;
            pkt[at] = rng.next_u8();
        }
        let full = parse(&pkt);
        let cut = &pkt[..pkt.len().min(MAX_HEADERS)];
        assert_eq!(parse_headers(cut, pkt.len()), full);
    }
}

#[test]
fn ttl_decrement_keeps_the_header_checksum_right() {
    let mut rng = Rng::new(7);
    for _ in 0..10_000 {
        let mut p = tcp_packet();
        let ttl = 2 + (rng.next_u32() % 254) as u8;
        p[8] = ttl;
        p[12..20].copy_from_slice(&rng.next_u64().to_be_bytes());
        let c = ref_ip_csum(&p, 0);
        put16(&mut p, 10, c);
        decrement_ttl(&mut p).unwrap();
        assert_eq!(p[8], ttl - 1);
        assert_eq!(be16(&p, 10), ref_ip_csum(&p, 0), "ttl {ttl}");
    }
}

#[test]
fn ttl_of_one_or_zero_is_refused_untouched() {
    for ttl in [0u8, 1] {
        let mut p = tcp_packet();
        p[8] = ttl;
        let before = p.clone();
        assert_eq!(decrement_ttl(&mut p), Err(RewriteError::WrongKind));
        assert_eq!(p, before);
    }
    assert_eq!(decrement_ttl(&mut [0u8; 9]), Err(RewriteError::OutOfBounds));
}
