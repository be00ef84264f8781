// SPDX-License-Identifier: GPL-2.0
//! IPv4 packets: parsing into typed views, NAT rewriting in place, and building a RST.
//!
//! [`parse`] reads an IPv4 header and then a TCP, UDP or ICMP header from a byte slice
//! (the packet from its IP header on) and returns a [`Packet`]: the header fields and the
//! offsets the rewriters need. It never reads outside the slice; each malformation has its
//! own [`ParseError`] so the data path can count it. Bytes after the IP total length (link
//! padding) are ignored.
//!
//! The rewriters change addresses and ports of a parsed packet in place and update every
//! checksum incrementally (see [`checksum`](super::checksum)):
//! - [`rewrite`]: the source (SNAT) or destination (DNAT) of a TCP or UDP packet;
//! - [`rewrite_icmp_error`]: an ICMP error about a tracked connection: the outer address,
//!   and the quoted packet's address and port on the opposite side, with the quoted TCP or
//!   UDP checksum when the quote holds it (as netfilter's NAT does; IPVS leaves it).
//!
//! [`build_tcp_rst`] writes a complete IPv4 + TCP reset, for telling a real server to free
//! a connection the director dropped.
//!
//! Addresses are `u32` in host order: the numeric value of the dotted quad, i.e.
//! `u32::from_be_bytes` of the four bytes on the wire.

use super::checksum;
use super::names::{ascii, c_suffix};
use super::proto::ipproto;
use super::tcp_options;
use super::tcp_state::TcpFlags;
use core::ffi::CStr;

/// IP protocol number of ICMP.
pub const IPPROTO_ICMP: u8 = 1;
/// IP protocol number of TCP ([`ipproto::TCP`]).
pub const IPPROTO_TCP: u8 = ipproto::TCP;
/// IP protocol number of UDP ([`ipproto::UDP`]).
pub const IPPROTO_UDP: u8 = ipproto::UDP;

/// Minimum IPv4 header length.
pub const IPV4_MIN_HEADER: usize = 20;
/// Minimum TCP header length.
pub const TCP_MIN_HEADER: usize = 20;
/// UDP header length.
pub const UDP_HEADER: usize = 8;
/// ICMP header length (type, code, checksum, and four bytes that depend on the type).
pub const ICMP_HEADER: usize = 8;

/// Why a packet is malformed. Each variant is one drop reason for the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseError {
    /// Fewer than 20 bytes: no room for an IPv4 header.
    Ipv4Truncated,
    /// The version field is not 4.
    NotIpv4,
    /// IHL below 5 (a header shorter than 20 bytes).
    BadIhl,
    /// IHL × 4 is beyond the buffer.
    HeaderBeyondBuffer,
    /// The total length is smaller than the header length.
    TotalLengthBelowHeader,
    /// The total length is beyond the buffer.
    TotalLengthBeyondBuffer,
    /// A fragment (more-fragments set or a non-zero offset).
    Fragment,
    /// Fewer than 20 bytes of TCP header.
    TcpTruncated,
    /// TCP data offset below 5.
    TcpBadDataOffset,
    /// TCP data offset × 4 is beyond the segment.
    TcpHeaderBeyondSegment,
    /// Fewer than 8 bytes of UDP header.
    UdpTruncated,
    /// UDP length below 8 or beyond the datagram.
    UdpBadLength,
    /// Fewer than 8 bytes of ICMP header.
    IcmpTruncated,
    /// An ICMP error whose quoted packet is not an IPv4 header followed by at least the
    /// four bytes of ports.
    IcmpBadQuote,
}

impl ParseError {
    /// Every reason, for counter tables.
    pub const ALL: [ParseError; 14] = [
        ParseError::Ipv4Truncated,
        ParseError::NotIpv4,
        ParseError::BadIhl,
        ParseError::HeaderBeyondBuffer,
        ParseError::TotalLengthBelowHeader,
        ParseError::TotalLengthBeyondBuffer,
        ParseError::Fragment,
        ParseError::TcpTruncated,
        ParseError::TcpBadDataOffset,
        ParseError::TcpHeaderBeyondSegment,
        ParseError::UdpTruncated,
        ParseError::UdpBadLength,
        ParseError::IcmpTruncated,
        ParseError::IcmpBadQuote,
    ];

    /// The name of its counter's sysctl file, `malformed_<name>`.
    pub const fn sysctl_name(self) -> &'static CStr {
        match self {
            ParseError::Ipv4Truncated => c"malformed_ipv4_truncated",
            ParseError::NotIpv4 => c"malformed_not_ipv4",
            ParseError::BadIhl => c"malformed_bad_ihl",
            ParseError::HeaderBeyondBuffer => c"malformed_header_beyond_buffer",
            ParseError::TotalLengthBelowHeader => c"malformed_total_length_below_header",
            ParseError::TotalLengthBeyondBuffer => c"malformed_total_length_beyond_buffer",
            ParseError::Fragment => c"malformed_fragment",
            ParseError::TcpTruncated => c"malformed_tcp_truncated",
            ParseError::TcpBadDataOffset => c"malformed_tcp_bad_data_offset",
            ParseError::TcpHeaderBeyondSegment => c"malformed_tcp_header_beyond_segment",
            ParseError::UdpTruncated => c"malformed_udp_truncated",
            ParseError::UdpBadLength => c"malformed_udp_bad_length",
            ParseError::IcmpTruncated => c"malformed_icmp_truncated",
            ParseError::IcmpBadQuote => c"malformed_icmp_bad_quote",
        }
    }

    /// A short name for logs and counters: the sysctl name without `malformed_`.
    pub const fn name(self) -> &'static str {
        ascii(c_suffix(self.sysctl_name(), MALFORMED_PREFIX.len()).to_bytes())
    }
}

/// The prefix of the malformation counters' sysctl names.
pub const MALFORMED_PREFIX: &str = "malformed_";

/// The fields of an IPv4 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4 {
    /// Header length in bytes (IHL × 4), 20..=60.
    pub header_len: usize,
    /// Total length in bytes, at least `header_len`.
    pub total_len: usize,
    /// Identification.
    pub id: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol number.
    pub protocol: u8,
    /// Don't-fragment flag.
    pub dont_fragment: bool,
    /// More-fragments flag.
    pub more_fragments: bool,
    /// Fragment offset, in units of 8 bytes.
    pub fragment_offset: u16,
    /// Header checksum.
    pub checksum: u16,
    /// Source address, host order.
    pub src: u32,
    /// Destination address, host order.
    pub dst: u32,
}

/// The fields of a TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack_seq: u32,
    /// Header length in bytes (data offset × 4), 20..=60.
    pub header_len: usize,
    /// Flags.
    pub flags: TcpFlags,
    /// Window.
    pub window: u16,
    /// Checksum.
    pub checksum: u16,
}

/// The fields of a UDP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Udp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length of header and data, 8..= the IP payload length.
    pub length: u16,
    /// Checksum; 0 means none.
    pub checksum: u16,
}

/// The packet an ICMP error quotes: its IPv4 header and the first four bytes after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    /// Offset of the quoted IPv4 header in the buffer.
    pub offset: usize,
    /// The quoted header's length in bytes.
    pub header_len: usize,
    /// The quoted protocol.
    pub protocol: u8,
    /// The quoted header's checksum.
    pub checksum: u16,
    /// The quoted source address.
    pub src: u32,
    /// The quoted destination address.
    pub dst: u32,
    /// The quoted source port (the first two bytes after the header).
    pub src_port: u16,
    /// The quoted destination port (the next two).
    pub dst_port: u16,
}

/// The fields of an ICMP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Icmp {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Checksum.
    pub checksum: u16,
    /// The quoted packet, for the error types (destination unreachable, source quench,
    /// redirect, time exceeded, parameter problem) that quote an unfragmented TCP or UDP
    /// packet; `None` otherwise.
    pub quote: Option<Quote>,
}

impl Icmp {
    /// Whether `icmp_type` is an error message that quotes the offending packet.
    pub const fn is_error_type(icmp_type: u8) -> bool {
        matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
    }
}

/// The transport header of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP.
    Tcp(Tcp),
    /// UDP.
    Udp(Udp),
    /// ICMP.
    Icmp(Icmp),
    /// Another protocol: not parsed.
    Other,
}

/// A parsed packet: the IPv4 header and the transport header behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The IPv4 header.
    pub ip: Ipv4,
    /// The transport header, which starts at `ip.header_len`.
    pub transport: Transport,
}

impl Ipv4 {
    /// Whether this is a fragment (more-fragments set or a non-zero offset).
    pub const fn is_fragment(&self) -> bool {
        self.more_fragments || self.fragment_offset != 0
    }
}

impl Packet {
    /// The offset of the transport header.
    pub const fn l4_offset(&self) -> usize {
        self.ip.header_len
    }

    /// Source and destination ports of a TCP or UDP packet.
    pub const fn ports(&self) -> Option<(u16, u16)> {
        match self.transport {
            Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
            Transport::Udp(u) => Some((u.src_port, u.dst_port)),
            _ => None,
        }
    }

    /// The transport payload's length (after the TCP or UDP header); 0 for other protocols.
    pub const fn payload_len(&self) -> usize {
        let seg = self.ip.total_len.saturating_sub(self.ip.header_len);
        match self.transport {
            Transport::Tcp(t) => seg.saturating_sub(t.header_len),
            Transport::Udp(u) => (u.length as usize).saturating_sub(UDP_HEADER),
            _ => 0,
        }
    }
}

/// Parses an IPv4 packet and its TCP, UDP or ICMP header from `buf`. Fragments are
/// refused ([`ParseError::Fragment`]).
pub fn parse(buf: &[u8]) -> Result<Packet, ParseError> {
    parse_headers(buf, buf.len())
}

/// Like [`parse`], for a packet of `packet_len` bytes of which `buf` holds only the start
/// (the kernel copies the headers out of a possibly non-linear packet): lengths are checked
/// against `packet_len`, and `buf` must hold the headers themselves. [`MAX_HEADERS`] bytes
/// (or the whole packet, if shorter) always suffice for a well-formed packet.
pub fn parse_headers(buf: &[u8], packet_len: usize) -> Result<Packet, ParseError> {
    let ip = parse_ipv4_len(buf, packet_len)?;
    if ip.is_fragment() {
        return Err(ParseError::Fragment);
    }
    let segment_len = ip.total_len.saturating_sub(ip.header_len);
    let end = ip.total_len.min(buf.len());
    let segment = buf
        .get(ip.header_len..end)
        .ok_or(ParseError::TotalLengthBeyondBuffer)?;
    let transport = match ip.protocol {
        IPPROTO_TCP => Transport::Tcp(parse_tcp(segment)?),
        IPPROTO_UDP => Transport::Udp(parse_udp(segment, segment_len)?),
        IPPROTO_ICMP => Transport::Icmp(parse_icmp(segment, ip.header_len)?),
        _ => Transport::Other,
    };
    Ok(Packet { ip, transport })
}

/// The most header bytes [`parse_headers`] needs: a 60-byte IPv4 header and a 60-byte TCP
/// header (an ICMP error's quote fits too: 60 + 8 + 60 + 8).
pub const MAX_HEADERS: usize = 136;

/// Parses only the IPv4 header (fragments included): the data path can look at the
/// destination before deciding whether a malformed transport header is its business.
pub fn parse_ipv4(buf: &[u8]) -> Result<Ipv4, ParseError> {
    parse_ipv4_len(buf, buf.len())
}

/// [`parse_ipv4`] for a packet of `packet_len` bytes whose start is in `buf`.
fn parse_ipv4_len(buf: &[u8], packet_len: usize) -> Result<Ipv4, ParseError> {
    let first = *buf.first().ok_or(ParseError::Ipv4Truncated)?;
    if buf.len() < IPV4_MIN_HEADER {
        return Err(ParseError::Ipv4Truncated);
    }
    if first >> 4 != 4 {
        return Err(ParseError::NotIpv4);
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER {
        return Err(ParseError::BadIhl);
    }
    if header_len > buf.len() {
        return Err(ParseError::HeaderBeyondBuffer);
    }
    let total_len = usize::from(be16_at(buf, 2).ok_or(ParseError::Ipv4Truncated)?);
    if total_len < header_len {
        return Err(ParseError::TotalLengthBelowHeader);
    }
    if total_len > packet_len {
        return Err(ParseError::TotalLengthBeyondBuffer);
    }
    let t = ParseError::Ipv4Truncated;
    let frag = be16_at(buf, 6).ok_or(t)?;
    Ok(Ipv4 {
        header_len,
        total_len,
        id: be16_at(buf, 4).ok_or(t)?,
        ttl: *buf.get(8).ok_or(t)?,
        protocol: *buf.get(9).ok_or(t)?,
        dont_fragment: frag & 0x4000 != 0,
        more_fragments: frag & 0x2000 != 0,
        fragment_offset: frag & 0x1fff,
        checksum: be16_at(buf, 10).ok_or(t)?,
        src: be32_at(buf, 12).ok_or(t)?,
        dst: be32_at(buf, 16).ok_or(t)?,
    })
}

fn parse_tcp(seg: &[u8]) -> Result<Tcp, ParseError> {
    if seg.len() < TCP_MIN_HEADER {
        return Err(ParseError::TcpTruncated);
    }
    let t = ParseError::TcpTruncated;
    let header_len = usize::from(*seg.get(12).ok_or(t)? >> 4) * 4;
    if header_len < TCP_MIN_HEADER {
        return Err(ParseError::TcpBadDataOffset);
    }
    if header_len > seg.len() {
        return Err(ParseError::TcpHeaderBeyondSegment);
    }
    Ok(Tcp {
        src_port: be16_at(seg, 0).ok_or(t)?,
        dst_port: be16_at(seg, 2).ok_or(t)?,
        seq: be32_at(seg, 4).ok_or(t)?,
        ack_seq: be32_at(seg, 8).ok_or(t)?,
        header_len,
        flags: TcpFlags(*seg.get(13).ok_or(t)?),
        window: be16_at(seg, 14).ok_or(t)?,
        checksum: be16_at(seg, 16).ok_or(t)?,
    })
}

fn parse_udp(seg: &[u8], segment_len: usize) -> Result<Udp, ParseError> {
    let t = ParseError::UdpTruncated;
    if seg.len() < UDP_HEADER {
        return Err(t);
    }
    let length = be16_at(seg, 4).ok_or(t)?;
    if usize::from(length) < UDP_HEADER || usize::from(length) > segment_len {
        return Err(ParseError::UdpBadLength);
    }
    Ok(Udp {
        src_port: be16_at(seg, 0).ok_or(t)?,
        dst_port: be16_at(seg, 2).ok_or(t)?,
        length,
        checksum: be16_at(seg, 6).ok_or(t)?,
    })
}

/// Parses ICMP in `seg`, which starts at `offset` in the packet.
fn parse_icmp(seg: &[u8], offset: usize) -> Result<Icmp, ParseError> {
    let t = ParseError::IcmpTruncated;
    if seg.len() < ICMP_HEADER {
        return Err(t);
    }
    let icmp_type = *seg.first().ok_or(t)?;
    let quote = if Icmp::is_error_type(icmp_type) {
        let inner = seg.get(ICMP_HEADER..).ok_or(t)?;
        parse_quote(inner, offset.saturating_add(ICMP_HEADER))?
    } else {
        None
    };
    Ok(Icmp {
        icmp_type,
        code: *seg.get(1).ok_or(t)?,
        checksum: be16_at(seg, 2).ok_or(t)?,
        quote,
    })
}

/// The quoted packet of an ICMP error (at `offset` in the packet): `None` when it is not
/// an unfragmented TCP or UDP packet, an error when its header or ports are cut off. Its
/// total length is not checked: errors quote only the start of a packet.
fn parse_quote(inner: &[u8], offset: usize) -> Result<Option<Quote>, ParseError> {
    let bad = ParseError::IcmpBadQuote;
    let first = *inner.first().ok_or(bad)?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < IPV4_MIN_HEADER {
        return Err(bad);
    }
    let protocol = *inner.get(9).ok_or(bad)?;
    let fragment_offset = be16_at(inner, 6).ok_or(bad)? & 0x1fff;
    if !matches!(protocol, IPPROTO_TCP | IPPROTO_UDP) || fragment_offset != 0 {
        return Ok(None);
    }
    Ok(Some(Quote {
        offset,
        header_len,
        protocol,
        checksum: be16_at(inner, 10).ok_or(bad)?,
        src: be32_at(inner, 12).ok_or(bad)?,
        dst: be32_at(inner, 16).ok_or(bad)?,
        src_port: be16_at(inner, header_len).ok_or(bad)?,
        dst_port: be16_at(inner, header_len.saturating_add(2)).ok_or(bad)?,
    }))
}

/// Which end of a packet to rewrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The source address and port (SNAT: replies going back out as the VIP).
    Source,
    /// The destination address and port (DNAT: requests to the VIP going to a server).
    Destination,
}

impl Side {
    /// The other side.
    pub const fn opposite(self) -> Side {
        match self {
            Side::Source => Side::Destination,
            Side::Destination => Side::Source,
        }
    }

    /// Offset of this side's address in an IPv4 header.
    const fn addr_offset(self) -> usize {
        match self {
            Side::Source => 12,
            Side::Destination => 16,
        }
    }

    /// Offset of this side's port in a TCP or UDP header.
    const fn port_offset(self) -> usize {
        match self {
            Side::Source => 0,
            Side::Destination => 2,
        }
    }
}

/// How the TCP/UDP checksum field is to be updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CsumMode {
    /// The field holds a complete checksum (the usual case).
    Full,
    /// The field holds the uncomplemented pseudo-header sum: the checksum is offloaded
    /// (the kernel's `CHECKSUM_PARTIAL`), so only address changes are applied to it.
    Partial,
}

/// Why a rewrite could not be done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RewriteError {
    /// The packet is not of the kind the rewriter handles (TCP/UDP, or an ICMP error
    /// with a quote).
    WrongKind,
    /// The buffer is shorter than the parsed packet says (not the buffer it was parsed
    /// from).
    OutOfBounds,
    /// The buffer cannot hold the packet to build.
    BufferTooSmall,
}

/// Rewrites `side`'s address and port of the TCP or UDP packet `pkt` (parsed from `buf`)
/// to `addr` and `port`, and updates the IP header checksum and the TCP/UDP checksum
/// (pseudo-header included) incrementally.
pub fn rewrite(
    buf: &mut [u8],
    pkt: &Packet,
    side: Side,
    addr: u32,
    port: u16,
    mode: CsumMode,
) -> Result<(), RewriteError> {
    let (field, is_udp) = match pkt.transport {
        Transport::Tcp(_) => (16, false),
        Transport::Udp(_) => (6, true),
        _ => return Err(RewriteError::WrongKind),
    };
    let l4 = pkt.l4_offset();
    let csum_at = l4.checked_add(field).ok_or(RewriteError::OutOfBounds)?;
    let port_at = l4
        .checked_add(side.port_offset())
        .ok_or(RewriteError::OutOfBounds)?;
    let old_addr = get32(buf, side.addr_offset())?;
    let old_port = get16(buf, port_at)?;
    let csum = get16(buf, csum_at)?;
    let new_csum = match (mode, is_udp) {
        (CsumMode::Partial, _) => checksum::update_partial32(csum, old_addr, addr),
        (CsumMode::Full, false) => {
            checksum::update16(checksum::update32(csum, old_addr, addr), old_port, port)
        }
        (CsumMode::Full, true) => {
            checksum::udp_update16(checksum::udp_update32(csum, old_addr, addr), old_port, port)
        }
    };
    set_addr(buf, 0, side, addr)?;
    put16(buf, port_at, port)?;
    put16(buf, csum_at, new_csum)
}

/// Translates an ICMP error about a tracked connection: the outer address on `outer` and,
/// in the quoted packet, the address and port on the opposite side become `addr` and
/// `port`. Updates the outer IP checksum, the quoted IP checksum, the quoted TCP or UDP
/// checksum when the packet (`pkt.ip.total_len`) holds it and it is in use (a UDP checksum
/// of 0 is none), and the ICMP checksum. `buf` must hold the packet through that checksum.
///
/// For an error from the client side about a reply (quoted source VIP:vport), pass
/// `Side::Destination` and the real server; for an error from the server side about a
/// request (quoted destination server:port), pass `Side::Source` and the VIP.
pub fn rewrite_icmp_error(
    buf: &mut [u8],
    pkt: &Packet,
    outer: Side,
    addr: u32,
    port: u16,
) -> Result<(), RewriteError> {
    let Transport::Icmp(Icmp { quote: Some(q), .. }) = pkt.transport else {
        return Err(RewriteError::WrongKind);
    };
    let inner = outer.opposite();
    let icmp_csum_at = pkt
        .l4_offset()
        .checked_add(2)
        .ok_or(RewriteError::OutOfBounds)?;
    let port_at = q
        .offset
        .checked_add(q.header_len)
        .and_then(|o| o.checked_add(inner.port_offset()))
        .ok_or(RewriteError::OutOfBounds)?;
    let inner_csum_at = q.offset.checked_add(10).ok_or(RewriteError::OutOfBounds)?;

    let old_inner_addr = get32(buf, q.offset.saturating_add(inner.addr_offset()))?;
    let old_port = get16(buf, port_at)?;
    let old_inner_csum = get16(buf, inner_csum_at)?;
    let new_inner_csum = checksum::update32(old_inner_csum, old_inner_addr, addr);

    // The quoted transport checksum covers the address (in its pseudo-header) and the port.
    let is_udp = q.protocol == IPPROTO_UDP;
    let l4_csum_at = q
        .offset
        .checked_add(q.header_len)
        .and_then(|o| o.checked_add(if is_udp { 6 } else { 16 }))
        .ok_or(RewriteError::OutOfBounds)?;
    let l4_csum = if l4_csum_at.saturating_add(2) <= pkt.ip.total_len {
        Some(get16(buf, l4_csum_at)?).filter(|&c| !(is_udp && c == 0))
    } else {
        None
    };
    let l4_csum = l4_csum.map(|old| {
        let new = if is_udp {
            checksum::udp_update16(
                checksum::udp_update32(old, old_inner_addr, addr),
                old_port,
                port,
            )
        } else {
            checksum::update16(
                checksum::update32(old, old_inner_addr, addr),
                old_port,
                port,
            )
        };
        (old, new)
    });

    // The ICMP checksum covers the quoted address, port and checksums.
    let mut icmp_csum = get16(buf, icmp_csum_at)?;
    icmp_csum = checksum::update32(icmp_csum, old_inner_addr, addr);
    icmp_csum = checksum::update16(icmp_csum, old_port, port);
    icmp_csum = checksum::update16(icmp_csum, old_inner_csum, new_inner_csum);
    if let Some((old, new)) = l4_csum {
        icmp_csum = checksum::update16(icmp_csum, old, new);
    }

    set_addr(buf, 0, outer, addr)?;
    set_addr(buf, q.offset, inner, addr)?;
    put16(buf, inner_csum_at, new_inner_csum)?;
    put16(buf, port_at, port)?;
    if let Some((_, new)) = l4_csum {
        put16(buf, l4_csum_at, new)?;
    }
    put16(buf, icmp_csum_at, icmp_csum)
}

/// Sets `side`'s address of the IPv4 header at `ip` and updates its checksum.
/// Decrements the TTL of the IPv4 header at the start of `buf` and updates its checksum
/// incrementally, as a router does (`ip_decrease_ttl`). Refuses a TTL of 0 or 1, whose
/// packet a router drops (answering ICMP time exceeded) instead.
pub fn decrement_ttl(buf: &mut [u8]) -> Result<(), RewriteError> {
    let word = get16(buf, 8)?;
    if word >> 8 <= 1 {
        return Err(RewriteError::WrongKind);
    }
    let new = word - 0x0100;
    let csum = checksum::update16(get16(buf, 10)?, word, new);
    put16(buf, 8, new)?;
    put16(buf, 10, csum)
}

fn set_addr(buf: &mut [u8], ip: usize, side: Side, addr: u32) -> Result<(), RewriteError> {
    let at = ip
        .checked_add(side.addr_offset())
        .ok_or(RewriteError::OutOfBounds)?;
    let csum_at = ip.checked_add(10).ok_or(RewriteError::OutOfBounds)?;
    let old = get32(buf, at)?;
    let csum = checksum::update32(get16(buf, csum_at)?, old, addr);
    put32(buf, at, addr)?;
    put16(buf, csum_at, csum)
}

/// The length of the packet [`build_tcp_rst`] writes.
pub const RST_LEN: usize = IPV4_MIN_HEADER + TCP_MIN_HEADER;

/// A TCP reset to build with [`build_tcp_rst`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reset {
    /// Source address (host order).
    pub src: u32,
    /// Destination address (host order).
    pub dst: u32,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number: sets ACK when present (RST+ACK).
    pub ack_seq: Option<u32>,
}

/// Writes `rst` as a 40-byte IPv4 + TCP packet (TTL 64, don't-fragment, no options, both
/// checksums) at the start of `buf`; returns its length, [`RST_LEN`].
pub fn build_tcp_rst(buf: &mut [u8], rst: &Reset) -> Result<usize, RewriteError> {
    let flags = if rst.ack_seq.is_some() {
        TcpFlags::RST | TcpFlags::ACK
    } else {
        TcpFlags::RST
    };
    build_tcp(
        buf,
        &Segment {
            src: rst.src,
            dst: rst.dst,
            src_port: rst.src_port,
            dst_port: rst.dst_port,
            seq: rst.seq,
            ack_seq: rst.ack_seq.unwrap_or(0),
            flags,
            window: 0,
            options: tcp_options::Options::default(),
        },
    )
}

/// The most bytes [`build_tcp`] writes.
pub const SEGMENT_MAX_LEN: usize = IPV4_MIN_HEADER + TCP_MIN_HEADER + tcp_options::MAX_WRITTEN;

/// A TCP segment without payload, to build with [`build_tcp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Source address (host order).
    pub src: u32,
    /// Destination address (host order).
    pub dst: u32,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack_seq: u32,
    /// TCP flags (the `TcpFlags` bits).
    pub flags: u8,
    pub window: u16,
    pub options: tcp_options::Options,
}

/// Writes `s` as an IPv4 + TCP packet (TTL 64, don't-fragment, ID 0, both checksums) at
/// the start of `buf`; returns its length (at most [`SEGMENT_MAX_LEN`]).
pub fn build_tcp(buf: &mut [u8], s: &Segment) -> Result<usize, RewriteError> {
    let mut opts = [0u8; tcp_options::MAX_WRITTEN];
    let n_opts = tcp_options::write(&mut opts, &s.options).ok_or(RewriteError::BufferTooSmall)?;
    let tcp_len = TCP_MIN_HEADER + n_opts;
    let len = IPV4_MIN_HEADER + tcp_len;
    let out = buf.get_mut(..len).ok_or(RewriteError::BufferTooSmall)?;
    out.fill(0);
    let (ip, tcp) = out.split_at_mut(IPV4_MIN_HEADER);
    put(ip, 0, &[0x45])?; // version 4, IHL 5
    put16(ip, 2, len as u16)?;
    put16(ip, 6, 0x4000)?; // don't fragment
    put(ip, 8, &[64, IPPROTO_TCP])?;
    put32(ip, 12, s.src)?;
    put32(ip, 16, s.dst)?;
    put16(tcp, 0, s.src_port)?;
    put16(tcp, 2, s.dst_port)?;
    put32(tcp, 4, s.seq)?;
    put32(tcp, 8, s.ack_seq)?;
    put(tcp, 12, &[((tcp_len / 4) as u8) << 4, s.flags])?;
    put16(tcp, 14, s.window)?;
    put(tcp, TCP_MIN_HEADER, opts.get(..n_opts).unwrap_or(&[]))?;
    let ip_csum = checksum::checksum(ip);
    put16(ip, 10, ip_csum)?;
    let tcp_csum = checksum::transport_checksum(s.src, s.dst, IPPROTO_TCP, tcp, 16)
        .ok_or(RewriteError::BufferTooSmall)?;
    put16(tcp, 16, tcp_csum)?;
    Ok(len)
}

fn be16_at(b: &[u8], at: usize) -> Option<u16> {
    let w = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*w.first()?, *w.get(1)?]))
}

fn be32_at(b: &[u8], at: usize) -> Option<u32> {
    let w = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([
        *w.first()?,
        *w.get(1)?,
        *w.get(2)?,
        *w.get(3)?,
    ]))
}

fn get16(b: &[u8], at: usize) -> Result<u16, RewriteError> {
    be16_at(b, at).ok_or(RewriteError::OutOfBounds)
}

fn get32(b: &[u8], at: usize) -> Result<u32, RewriteError> {
    be32_at(b, at).ok_or(RewriteError::OutOfBounds)
}

fn put16(b: &mut [u8], at: usize, v: u16) -> Result<(), RewriteError> {
    put(b, at, &v.to_be_bytes())
}

fn put32(b: &mut [u8], at: usize, v: u32) -> Result<(), RewriteError> {
    put(b, at, &v.to_be_bytes())
}

/// Writes `bytes` at `at`, or fails without writing when they do not fit.
fn put(b: &mut [u8], at: usize, bytes: &[u8]) -> Result<(), RewriteError> {
    let end = at
        .checked_add(bytes.len())
        .ok_or(RewriteError::OutOfBounds)?;
    let dst = b.get_mut(at..end).ok_or(RewriteError::OutOfBounds)?;
    for (d, s) in dst.iter_mut().zip(bytes) {
        *d = *s;
    }
    Ok(())
}
