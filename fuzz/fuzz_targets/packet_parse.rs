// SPDX-License-Identifier: GPL-2.0

//! `packet_parse`: arbitrary bytes as an IPv4 packet (the input is the packet from its IP
//! header on).
//!
//! Properties:
//! - `parse` agrees exactly (the same `Packet`, or the same `ParseError`) with a reference
//!   parser written here from the documented rules (RFC 791/793/768/792 and the order of
//!   the checks that `ParseError` documents): no well-formed packet is refused, no
//!   malformed one accepted, and each malformation gets its own reason;
//! - on success, the offsets and lengths are consistent and inside the buffer: IHL and
//!   data offset in 20..=60 and multiples of 4, `header_len <= total_len <= buf.len()`,
//!   the TCP/UDP/ICMP header inside the IP total length, an ICMP error's quote (IP header
//!   and ports) inside it too, `payload_len` within the segment;
//! - link padding after the total length changes nothing;
//! - `parse_headers` on any prefix of the buffer (the kernel copies out only the headers)
//!   agrees with the reference on that prefix, never accepts what the whole buffer refuses
//!   or differently, and on a prefix of `MAX_HEADERS` bytes gives what `parse` gives;
//! - `parse_ipv4` agrees with `parse` on the IP header, fragments included.
#![no_main]

use ipvsd_logic::packet::{
    parse, parse_headers, parse_ipv4, Icmp, Ipv4, Packet, ParseError, Quote, Tcp, Transport, Udp,
    IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, MAX_HEADERS,
};
use ipvsd_logic::tcp_state::TcpFlags;
use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;
use common::{be16, be32, hex};

/// The reference parser: `buf` holds the start of a packet of `packet_len` bytes.
fn reference(buf: &[u8], packet_len: usize) -> Result<Packet, ParseError> {
    use ParseError as E;
    if buf.len() < 20 {
        return Err(E::Ipv4Truncated);
    }
    if buf[0] >> 4 != 4 {
        return Err(E::NotIpv4);
    }
    let hl = usize::from(buf[0] & 0xf) * 4;
    if hl < 20 {
        return Err(E::BadIhl);
    }
    if hl > buf.len() {
        return Err(E::HeaderBeyondBuffer);
    }
    let total = usize::from(be16(buf, 2));
    if total < hl {
        return Err(E::TotalLengthBelowHeader);
    }
    if total > packet_len {
        return Err(E::TotalLengthBeyondBuffer);
    }
    let frag = be16(buf, 6);
    let ip = Ipv4 {
        header_len: hl,
        total_len: total,
        id: be16(buf, 4),
        ttl: buf[8],
        protocol: buf[9],
        dont_fragment: frag & 0x4000 != 0,
        more_fragments: frag & 0x2000 != 0,
        fragment_offset: frag & 0x1fff,
        checksum: be16(buf, 10),
        src: be32(buf, 12),
        dst: be32(buf, 16),
    };
    if frag & 0x3fff != 0 {
        return Err(E::Fragment);
    }
    // What of the IP payload the buffer holds.
    let seg = &buf[hl..total.min(buf.len())];
    let transport = match buf[9] {
        6 => {
            if seg.len() < 20 {
                return Err(E::TcpTruncated);
            }
            let doff = usize::from(seg[12] >> 4) * 4;
            if doff < 20 {
                return Err(E::TcpBadDataOffset);
            }
            if doff > seg.len() {
                return Err(E::TcpHeaderBeyondSegment);
            }
            Transport::Tcp(Tcp {
                src_port: be16(seg, 0),
                dst_port: be16(seg, 2),
                seq: be32(seg, 4),
                ack_seq: be32(seg, 8),
                header_len: doff,
                flags: TcpFlags(seg[13]),
                window: be16(seg, 14),
                checksum: be16(seg, 16),
            })
        }
        17 => {
            if seg.len() < 8 {
                return Err(E::UdpTruncated);
            }
            let length = be16(seg, 4);
            if length < 8 || usize::from(length) > total - hl {
                return Err(E::UdpBadLength);
            }
            Transport::Udp(Udp {
                src_port: be16(seg, 0),
                dst_port: be16(seg, 2),
                length,
                checksum: be16(seg, 6),
            })
        }
        1 => {
            if seg.len() < 8 {
                return Err(E::IcmpTruncated);
            }
            let quote = if matches!(seg[0], 3 | 4 | 5 | 11 | 12) {
                let q = &seg[8..];
                // The quoted header: version, IHL, fragment offset and protocol must be
                // there to decide; the addresses and ports only for TCP/UDP.
                if q.len() < 10 || q[0] >> 4 != 4 || q[0] & 0xf < 5 {
                    return Err(E::IcmpBadQuote);
                }
                let qhl = usize::from(q[0] & 0xf) * 4;
                if !matches!(q[9], 6 | 17) || be16(q, 6) & 0x1fff != 0 {
                    None
                } else if q.len() < qhl + 4 {
                    return Err(E::IcmpBadQuote);
                } else {
                    Some(Quote {
                        offset: hl + 8,
                        header_len: qhl,
                        protocol: q[9],
                        checksum: be16(q, 10),
                        src: be32(q, 12),
                        dst: be32(q, 16),
                        src_port: be16(q, qhl),
                        dst_port: be16(q, qhl + 2),
                    })
                }
            } else {
                None
            };
            Transport::Icmp(Icmp {
                icmp_type: seg[0],
                code: seg[1],
                checksum: be16(seg, 2),
                quote,
            })
        }
        _ => Transport::Other,
    };
    Ok(Packet { ip, transport })
}

/// The invariants of a successful parse of `buf` (a buffer of the whole packet or of its
/// start, for a packet of `packet_len` bytes).
fn check_invariants(buf: &[u8], packet_len: usize, p: &Packet) {
    let ip = &p.ip;
    assert!(buf.len() >= 20 && buf[0] >> 4 == 4);
    assert!((20..=60).contains(&ip.header_len) && ip.header_len.is_multiple_of(4));
    assert_eq!(ip.header_len, usize::from(buf[0] & 0xf) * 4);
    assert!(ip.header_len <= buf.len(), "IP header beyond the buffer");
    assert!(ip.header_len <= ip.total_len && ip.total_len <= packet_len);
    assert_eq!(ip.total_len, usize::from(be16(buf, 2)));
    assert!(!ip.is_fragment(), "a fragment was parsed");
    assert_eq!(p.l4_offset(), ip.header_len);
    let seg_len = ip.total_len - ip.header_len;
    let l4 = ip.header_len;
    assert!(p.payload_len() <= seg_len);
    match p.transport {
        Transport::Tcp(t) => {
            assert_eq!(ip.protocol, IPPROTO_TCP);
            assert!((20..=60).contains(&t.header_len) && t.header_len.is_multiple_of(4));
            assert!(
                l4 + t.header_len <= ip.total_len,
                "TCP header beyond the packet"
            );
            assert!(
                l4 + t.header_len <= buf.len(),
                "TCP header beyond the buffer"
            );
            assert_eq!(t.header_len, usize::from(buf[l4 + 12] >> 4) * 4);
            assert_eq!((t.src_port, t.dst_port), (be16(buf, l4), be16(buf, l4 + 2)));
            assert_eq!(t.checksum, be16(buf, l4 + 16));
            assert_eq!(p.payload_len(), seg_len - t.header_len);
            assert_eq!(p.ports(), Some((t.src_port, t.dst_port)));
        }
        Transport::Udp(u) => {
            assert_eq!(ip.protocol, IPPROTO_UDP);
            assert!(l4 + 8 <= ip.total_len && l4 + 8 <= buf.len());
            assert!(usize::from(u.length) >= 8 && usize::from(u.length) <= seg_len);
            assert_eq!(u.length, be16(buf, l4 + 4));
            assert_eq!(u.checksum, be16(buf, l4 + 6));
            assert_eq!(p.payload_len(), usize::from(u.length) - 8);
            assert_eq!(p.ports(), Some((u.src_port, u.dst_port)));
        }
        Transport::Icmp(i) => {
            assert_eq!(ip.protocol, IPPROTO_ICMP);
            assert!(l4 + 8 <= ip.total_len && l4 + 8 <= buf.len());
            assert_eq!((i.icmp_type, i.code), (buf[l4], buf[l4 + 1]));
            assert_eq!(i.checksum, be16(buf, l4 + 2));
            assert_eq!(p.ports(), None);
            if let Some(q) = i.quote {
                assert!(
                    Icmp::is_error_type(i.icmp_type),
                    "a quote in a non-error ICMP"
                );
                assert_eq!(q.offset, l4 + 8);
                assert!((20..=60).contains(&q.header_len) && q.header_len.is_multiple_of(4));
                let end = q.offset + q.header_len + 4;
                assert!(end <= ip.total_len, "quoted ports beyond the packet");
                assert!(end <= buf.len(), "quoted ports beyond the buffer");
                assert_eq!(buf[q.offset] >> 4, 4);
                assert!(q.protocol == IPPROTO_TCP || q.protocol == IPPROTO_UDP);
                assert_eq!(q.protocol, buf[q.offset + 9]);
                assert_eq!(be16(buf, q.offset + 6) & 0x1fff, 0);
                assert_eq!(
                    (q.src, q.dst),
                    (be32(buf, q.offset + 12), be32(buf, q.offset + 16))
                );
                let pa = q.offset + q.header_len;
                assert_eq!((q.src_port, q.dst_port), (be16(buf, pa), be16(buf, pa + 2)));
            }
        }
        Transport::Other => {
            assert!(![IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP].contains(&ip.protocol));
            assert_eq!(p.payload_len(), 0);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let got = parse(data);
    let want = reference(data, data.len());
    assert_eq!(
        got,
        want,
        "parse disagrees with the reference on {}",
        hex(data)
    );
    assert_eq!(parse_headers(data, data.len()), got);

    match got {
        Ok(p) => {
            check_invariants(data, data.len(), &p);
            // Link padding is ignored: the packet alone parses the same.
            assert_eq!(parse(&data[..p.ip.total_len]), got);
            assert_eq!(parse_ipv4(data), Ok(p.ip));
        }
        Err(e) => {
            assert!(ParseError::ALL.contains(&e));
            assert!(!e.name().is_empty());
            // `parse_ipv4` fails on exactly the IP header errors, and accepts fragments.
            match (e, parse_ipv4(data)) {
                (ParseError::Fragment, Ok(ip)) => assert!(ip.is_fragment()),
                (
                    ParseError::Ipv4Truncated
                    | ParseError::NotIpv4
                    | ParseError::BadIhl
                    | ParseError::HeaderBeyondBuffer
                    | ParseError::TotalLengthBelowHeader
                    | ParseError::TotalLengthBeyondBuffer,
                    r,
                ) => assert_eq!(r, Err(e)),
                (_, r) => assert!(r.is_ok_and(|ip| !ip.is_fragment())),
            }
        }
    }

    // Only the start of the packet in the buffer, as the kernel copies headers out.
    let full = data.len().min(MAX_HEADERS);
    for k in 0..=full.min(data.len()) {
        let part = parse_headers(&data[..k], data.len());
        assert_eq!(
            part,
            reference(&data[..k], data.len()),
            "parse_headers of {k} bytes disagrees with the reference on {}",
            hex(data)
        );
        if let Ok(p) = part {
            check_invariants(&data[..k], data.len(), &p);
            assert_eq!(Ok(p), got, "a prefix of {k} bytes parses differently");
        }
    }
    assert_eq!(
        parse_headers(&data[..full], data.len()),
        got,
        "MAX_HEADERS bytes do not suffice on {}",
        hex(data)
    );
});
