// SPDX-License-Identifier: GPL-2.0
//! A SYN proxy's translation of its connections' segments: fields and checksums.

mod common;

use common::Rng;
use ipvsd_logic::checksum;
use ipvsd_logic::packet::CsumMode;
use ipvsd_logic::synproxy::{to_client, to_server, Error, Translation};
use ipvsd_logic::tcp_state::TcpFlags;

const SRC: u32 = 0xc633_6402;
const DST: u32 = 0xc612_0001;

/// A TCP segment: header with `options` (padded with NOPs ahead of them to `lead` bytes,
/// so options land at any alignment) and `payload`, its checksum full and valid.
fn segment(
    seq: u32,
    ack: u32,
    flags: u8,
    win: u16,
    lead: usize,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut opts = vec![1u8; lead];
    opts.extend_from_slice(options);
    while opts.len() % 4 != 0 {
        opts.push(0);
    }
    let hl = 20 + opts.len();
    let mut b = vec![0u8; hl];
    b[0..2].copy_from_slice(&8080u16.to_be_bytes());
    b[2..4].copy_from_slice(&40000u16.to_be_bytes());
    b[4..8].copy_from_slice(&seq.to_be_bytes());
    b[8..12].copy_from_slice(&ack.to_be_bytes());
    b[12] = ((hl / 4) as u8) << 4;
    b[13] = flags;
    b[14..16].copy_from_slice(&win.to_be_bytes());
    b[20..].copy_from_slice(&opts);
    b.extend_from_slice(payload);
    let c = checksum::transport_checksum(SRC, DST, 6, &b, 16).unwrap();
    b[16..18].copy_from_slice(&c.to_be_bytes());
    b
}

fn valid(b: &[u8]) -> bool {
    let mut z = b.to_vec();
    let c = u16::from_be_bytes([z[16], z[17]]);
    z[16] = 0;
    z[17] = 0;
    checksum::transport_checksum(SRC, DST, 6, &z, 16) == Some(c)
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn timestamp(val: u32, ecr: u32) -> Vec<u8> {
    let mut o = vec![8, 10];
    o.extend_from_slice(&val.to_be_bytes());
    o.extend_from_slice(&ecr.to_be_bytes());
    o
}

fn sack(blocks: &[(u32, u32)]) -> Vec<u8> {
    let mut o = vec![5, 2 + 8 * blocks.len() as u8];
    for (l, r) in blocks {
        o.extend_from_slice(&l.to_be_bytes());
        o.extend_from_slice(&r.to_be_bytes());
    }
    o
}

const ACK: u8 = TcpFlags::ACK;

/// Shifts of the scenarios below: sequence 1000, timestamps 50, the server's window scale
/// 7 and the director's 5.
const SHIFTS: Translation = Translation {
    seq: 1000,
    ts: 50,
    server_wscale: 7,
    client_wscale: 5,
};

#[test]
fn a_server_segment_gets_the_directors_sequence_timestamp_and_window() {
    let t = SHIFTS;
    for lead in 0..4 {
        let mut b = segment(0xffff_fff0, 77, ACK, 100, lead, &timestamp(9, 8), b"data");
        to_client(&mut b, &t, CsumMode::Full).unwrap();
        assert_eq!(be32(&b, 4), 0xffff_fff0u32.wrapping_add(1000));
        assert_eq!(
            be32(&b, 8),
            77,
            "the acknowledgment is of the client's own numbers"
        );
        assert_eq!(u16::from_be_bytes([b[14], b[15]]), 400, "100 << 7 >> 5");
        assert_eq!((be32(&b, 22 + lead), be32(&b, 26 + lead)), (59, 8));
        assert!(valid(&b), "lead {lead}");
    }
    // A window that would not fit is the largest; a SYN's window is not scaled.
    let mut b = segment(1, 1, ACK, 60000, 0, &[], b"");
    to_client(&mut b, &t, CsumMode::Full).unwrap();
    assert_eq!(u16::from_be_bytes([b[14], b[15]]), u16::MAX);
    let mut b = segment(1, 1, ACK | TcpFlags::SYN, 100, 0, &[], b"");
    to_client(&mut b, &t, CsumMode::Full).unwrap();
    assert_eq!(u16::from_be_bytes([b[14], b[15]]), 100);
    assert!(valid(&b));
}

#[test]
fn a_client_segment_gets_the_servers_acknowledgment_sack_and_echo() {
    let t = SHIFTS;
    for lead in 0..4 {
        let mut opts = timestamp(9, 59);
        opts.extend(sack(&[(2000, 3000), (500, 900)]));
        let mut b = segment(5, 1999, ACK, 100, lead, &opts, b"x");
        to_server(&mut b, &t, CsumMode::Full).unwrap();
        assert_eq!((be32(&b, 4), be32(&b, 8)), (5, 999));
        assert_eq!(
            u16::from_be_bytes([b[14], b[15]]),
            100,
            "the client's window as is"
        );
        assert_eq!((be32(&b, 22 + lead), be32(&b, 26 + lead)), (9, 9));
        let s = 32 + lead;
        let edges: Vec<u32> = (0..4).map(|i| be32(&b, s + 4 * i)).collect();
        assert_eq!(
            edges,
            [
                1000,
                2000,
                500u32.wrapping_sub(1000),
                900u32.wrapping_sub(1000)
            ]
        );
        assert!(valid(&b), "lead {lead}");
    }
    // Without ACK the acknowledgment field means nothing and is left alone.
    let mut b = segment(5, 1999, TcpFlags::SYN, 100, 0, &[], b"");
    to_server(&mut b, &t, CsumMode::Full).unwrap();
    assert_eq!(be32(&b, 8), 1999);
}

#[test]
fn offloaded_checksums_are_left_alone_and_bad_headers_refused() {
    let t = Translation {
        seq: 1,
        ts: 1,
        server_wscale: 0,
        client_wscale: 0,
    };
    let mut b = segment(5, 6, ACK, 100, 0, &timestamp(1, 2), b"");
    b[16] = 0x12;
    b[17] = 0x34;
    to_client(&mut b, &t, CsumMode::Partial).unwrap();
    to_server(&mut b, &t, CsumMode::Partial).unwrap();
    assert_eq!((b[16], b[17]), (0x12, 0x34));
    assert_eq!(
        to_client(&mut b[..19], &t, CsumMode::Full),
        Err(Error::Truncated)
    );
    let mut short = segment(5, 6, ACK, 100, 0, &timestamp(1, 2), b"");
    short[12] = 4 << 4;
    assert_eq!(
        to_server(&mut short, &t, CsumMode::Full),
        Err(Error::Truncated)
    );
    short[12] = 15 << 4;
    assert_eq!(
        to_server(&mut short, &t, CsumMode::Full),
        Err(Error::Truncated)
    );
}

#[test]
fn random_segments_keep_valid_checksums_and_never_panic() {
    let mut rng = Rng::new(11);
    for _ in 0..50_000 {
        let t = Translation {
            seq: rng.next_u32(),
            ts: rng.next_u32(),
            server_wscale: rng.next_u8() % 15,
            client_wscale: rng.next_u8() % 15,
        };
        let n = (rng.next_u32() % 40) as usize;
        let opts: Vec<u8> = (0..n)
            .map(|_| [0, 1, 5, 8, 10, 18, 2, 255][rng.next_u8() as usize % 8])
            .collect();
        let payload: Vec<u8> = (0..rng.next_u32() % 9).map(|_| rng.next_u8()).collect();
        let mut b = segment(
            rng.next_u32(),
            rng.next_u32(),
            rng.next_u8(),
            rng.next_u16(),
            0,
            &opts,
            &payload,
        );
        if rng.next_u32() % 2 == 0 {
            to_client(&mut b, &t, CsumMode::Full).unwrap();
        } else {
            to_server(&mut b, &t, CsumMode::Full).unwrap();
        }
        assert!(valid(&b));
    }
}

#[test]
fn proxy_counts_are_numbered_in_order_and_named_apart_from_the_drops() {
    use ipvsd_logic::drops::DropReason;
    use ipvsd_logic::synproxy::ProxyCount;
    let mut names: Vec<_> = DropReason::ALL.iter().map(|r| r.sysctl_name()).collect();
    for (i, c) in ProxyCount::ALL.into_iter().enumerate() {
        assert_eq!(c.index(), i);
        assert!(
            !names.contains(&c.sysctl_name()),
            "{:?} clashes",
            c.sysctl_name()
        );
        names.push(c.sysctl_name());
    }
}

#[test]
fn setup_waits_double() {
    use ipvsd_logic::synproxy::{setup_wait_secs, SYN_RESENDS};
    let waits: Vec<u64> = (0..=SYN_RESENDS).map(setup_wait_secs).collect();
    assert_eq!(waits, [1, 2, 4]);
}

/// An ICMP "fragmentation needed" from the client (SRC) to the VIP (DST) quoting a whole
/// 20-byte segment VIP:80 → client with sequence number `seq` and a valid checksum.
fn icmp_quoting(seq: u32) -> Vec<u8> {
    let mut tcp = vec![0u8; 20];
    tcp[0..2].copy_from_slice(&80u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&40000u16.to_be_bytes());
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = ACK;
    let c = checksum::transport_checksum(DST, SRC, 6, &tcp, 16).unwrap();
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let ip = |src: u32, dst: u32, proto: u8, len: usize| {
        let mut h = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        h.extend_from_slice(&src.to_be_bytes());
        h.extend_from_slice(&dst.to_be_bytes());
        let c = checksum::checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h
    };
    let mut quote = ip(DST, SRC, 6, 40);
    quote.extend_from_slice(&tcp);
    let mut icmp = vec![3, 4, 0, 0, 0, 0, 0x05, 0x14];
    icmp.extend_from_slice(&quote);
    let c = checksum::checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut pkt = ip(SRC, DST, 1, 20 + icmp.len());
    pkt.extend_from_slice(&icmp);
    pkt
}

#[test]
fn a_quoted_sequence_number_is_shifted_with_both_checksums() {
    use ipvsd_logic::packet::parse;
    use ipvsd_logic::synproxy::shift_quoted_seq;
    for by in [1u32, 1000, 0x8000_0000, u32::MAX] {
        let mut b = icmp_quoting(0xffff_0000);
        let pkt = parse(&b).unwrap();
        shift_quoted_seq(&mut b, &pkt, by).unwrap();
        assert_eq!(be32(&b, 52), 0xffff_0000u32.wrapping_add(by));
        assert_eq!(checksum::checksum(&b[20..]), 0, "the ICMP checksum");
        let tcp = &b[48..68];
        let mut z = tcp.to_vec();
        z[16] = 0;
        z[17] = 0;
        let want = checksum::transport_checksum(DST, SRC, 6, &z, 16).unwrap();
        assert_eq!(
            u16::from_be_bytes([tcp[16], tcp[17]]),
            want,
            "the quoted checksum"
        );
    }
    // A quote cut before the sequence number is left alone.
    let b = icmp_quoting(7);
    let mut short = b[..52].to_vec();
    short[2..4].copy_from_slice(&52u16.to_be_bytes());
    let pkt = parse(&short);
    if let Ok(pkt) = pkt {
        let before = short.clone();
        shift_quoted_seq(&mut short, &pkt, 5).unwrap();
        assert_eq!(short, before);
    }
}
