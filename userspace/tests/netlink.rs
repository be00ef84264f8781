// SPDX-License-Identifier: GPL-2.0
//! The wire format without a kernel: requests built by neli checked byte by byte, and
//! replies written here as the kernel would send them, parsed by neli and interpreted.

mod common;

use std::io::Cursor;

use common::*;
use ipvsd_logic::drops::DropReason;
use ipvsd_logic::proto::{ipproto, Attr, Cmd};
use ipvsdadm::client::NlError;
use ipvsdadm::model::{DestKey, Protocol};
use ipvsdadm::netlink::{
    build_request, decode_conn, decode_defense, decode_dest, decode_global, decode_service,
    dest_attrs, handle_message, service_attrs, to_bytes, AttrMap, AttrValue, NlMsg, Step,
};
use neli::consts::nl::NlmF;
use neli::FromBytes;

const FAMILY: u16 = 30;
const PID: u32 = 4242;
const SEQ: u32 = 7;
/// `NLMSGERR_ATTR_MSG` of linux/netlink.h (libc does not export it).
const NLMSGERR_ATTR_MSG: u16 = 1;

/// Little builder of raw bytes, in host order as netlink uses.
#[derive(Default)]
struct Bytes(Vec<u8>);

impl Bytes {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_ne_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_ne_bytes());
        self
    }
    fn i32(mut self, v: i32) -> Self {
        self.0.extend_from_slice(&v.to_ne_bytes());
        self
    }
    fn raw(mut self, v: &[u8]) -> Self {
        self.0.extend_from_slice(v);
        self
    }
    fn pad(mut self) -> Self {
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
        self
    }
    /// An attribute: `nla_len`, `nla_type`, payload, padding.
    fn attr(self, ty: impl Into<u16>, payload: &[u8]) -> Self {
        let ty: u16 = ty.into();
        self.u16(4 + payload.len() as u16)
            .u16(ty)
            .raw(payload)
            .pad()
    }
    /// A netlink header in front of `payload`.
    fn msg(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        Bytes::default()
            .u32(16 + payload.len() as u32)
            .u16(ty)
            .u16(flags)
            .u32(seq)
            .u32(PID)
            .raw(payload)
            .0
    }
}

fn parse_all(buf: &[u8]) -> Vec<NlMsg> {
    let mut cur = Cursor::new(buf);
    let mut out = Vec::new();
    while (cur.position() as usize) < buf.len() {
        out.push(NlMsg::from_bytes(&mut cur).expect("neli parses the message"));
    }
    out
}

fn new_service_request() -> Vec<u8> {
    let mut a = service_attrs(&tcp80());
    a.push((Attr::SvcSched, AttrValue::Str("rr".into())));
    let msg = build_request(FAMILY, SEQ, PID, Cmd::NewService.number(), 1, NlmF::ACK, &a).unwrap();
    to_bytes(&msg).unwrap()
}

#[test]
fn new_service_request_bytes() {
    let attrs = Bytes::default()
        .attr(Attr::SvcProtocol, &[ipproto::TCP])
        // The VIP in network order: the address bytes in order.
        .attr(Attr::SvcAddr, &[192, 0, 2, 100])
        // The port in host order.
        .attr(Attr::SvcPort, &80u16.to_ne_bytes())
        .attr(Attr::SvcSched, b"rr\0");
    let genl = Bytes::default()
        .u8(Cmd::NewService.number())
        .u8(1)
        .u16(0)
        .raw(&attrs.0);
    let want = Bytes::msg(
        FAMILY,
        (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16,
        SEQ,
        &genl.0,
    );
    assert_eq!(want.len(), 52);
    assert_eq!(new_service_request(), want);
}

#[test]
fn dest_request_bytes() {
    let dest = DestKey {
        addr: ip("198.51.100.2"),
        port: 8080,
    };
    let mut a = dest_attrs(&udp53(), &dest);
    a.push((Attr::DestWeight, AttrValue::U32(65535)));
    let msg = build_request(FAMILY, 9, PID, Cmd::SetDest.number(), 1, NlmF::ACK, &a).unwrap();
    let attrs = Bytes::default()
        .attr(Attr::SvcProtocol, &[ipproto::UDP])
        .attr(Attr::SvcAddr, &[192, 0, 2, 100])
        .attr(Attr::SvcPort, &53u16.to_ne_bytes())
        .attr(Attr::DestAddr, &[198, 51, 100, 2])
        .attr(Attr::DestPort, &8080u16.to_ne_bytes())
        .attr(Attr::DestWeight, &65535u32.to_ne_bytes());
    let genl = Bytes::default()
        .u8(Cmd::SetDest.number())
        .u8(1)
        .u16(0)
        .raw(&attrs.0);
    let want = Bytes::msg(
        FAMILY,
        (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16,
        9,
        &genl.0,
    );
    assert_eq!(to_bytes(&msg).unwrap(), want);
}

#[test]
fn dump_request_bytes() {
    let msg =
        build_request::<Attr>(FAMILY, 3, PID, Cmd::GetConn.number(), 1, NlmF::DUMP, &[]).unwrap();
    let genl = Bytes::default().u8(Cmd::GetConn.number()).u8(1).u16(0);
    let want = Bytes::msg(
        FAMILY,
        (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16,
        3,
        &genl.0,
    );
    assert_eq!(to_bytes(&msg).unwrap(), want);
}

#[test]
fn getfamily_request_bytes() {
    let msg = build_request(
        libc::GENL_ID_CTRL as u16,
        1,
        PID,
        libc::CTRL_CMD_GETFAMILY as u8,
        2,
        NlmF::ACK,
        &[(
            libc::CTRL_ATTR_FAMILY_NAME as u16,
            AttrValue::Str("IPVS_DEFENSE".into()),
        )],
    )
    .unwrap();
    let genl = Bytes::default()
        .u8(libc::CTRL_CMD_GETFAMILY as u8)
        .u8(2)
        .u16(0)
        .attr(libc::CTRL_ATTR_FAMILY_NAME as u16, b"IPVS_DEFENSE\0");
    let want = Bytes::msg(
        libc::GENL_ID_CTRL as u16,
        (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16,
        1,
        &genl.0,
    );
    assert_eq!(to_bytes(&msg).unwrap(), want);
}

#[test]
fn error_with_extended_ack_message() {
    let request = new_service_request();
    let payload = Bytes::default()
        .i32(-libc::EEXIST)
        .raw(&request)
        .attr(NLMSGERR_ATTR_MSG, b"service exists\0");
    let buf = Bytes::msg(
        libc::NLMSG_ERROR as u16,
        libc::NLM_F_ACK_TLVS as u16,
        SEQ,
        &payload.0,
    );
    let msgs = parse_all(&buf);
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        handle_message(&msgs[0], SEQ),
        Err(NlError::Errno {
            errno: libc::EEXIST,
            message: Some("service exists".into())
        })
    );
    // Someone else's sequence number is skipped.
    assert_eq!(handle_message(&msgs[0], SEQ + 1), Ok(Step::Skip));
}

#[test]
fn error_without_extended_ack() {
    let request = new_service_request();
    let payload = Bytes::default().i32(-libc::EPERM).raw(&request);
    let buf = Bytes::msg(libc::NLMSG_ERROR as u16, 0, SEQ, &payload.0);
    let msgs = parse_all(&buf);
    assert_eq!(
        handle_message(&msgs[0], SEQ),
        Err(NlError::Errno {
            errno: libc::EPERM,
            message: None
        })
    );
}

#[test]
fn error_code_that_is_no_errno() {
    // i32::MIN (found by fuzz/proto_attrs: its negation overflowed) and a positive code.
    let request = new_service_request();
    for code in [i32::MIN, 5] {
        let payload = Bytes::default().i32(code).raw(&request);
        let buf = Bytes::msg(libc::NLMSG_ERROR as u16, 0, SEQ, &payload.0);
        let msgs = parse_all(&buf);
        assert!(matches!(
            handle_message(&msgs[0], SEQ),
            Err(NlError::Protocol(_))
        ));
    }
    // The same in the error that ends a dump.
    let buf = Bytes::msg(
        libc::NLMSG_DONE as u16,
        libc::NLM_F_MULTI as u16,
        SEQ,
        &i32::MIN.to_ne_bytes(),
    );
    let msgs = parse_all(&buf);
    assert!(matches!(
        handle_message(&msgs[0], SEQ),
        Err(NlError::Protocol(_))
    ));
}

#[test]
fn ack_ends_a_do_request() {
    // A success ACK echoes only the request's header (NLM_F_CAPPED).
    let request = new_service_request();
    let payload = Bytes::default().i32(0).raw(&request[..16]);
    let buf = Bytes::msg(
        libc::NLMSG_ERROR as u16,
        libc::NLM_F_CAPPED as u16,
        SEQ,
        &payload.0,
    );
    let msgs = parse_all(&buf);
    assert_eq!(handle_message(&msgs[0], SEQ), Ok(Step::Done));
}

fn service_reply(seq: u32) -> Vec<u8> {
    let attrs = Bytes::default()
        .attr(Attr::SvcProtocol, &[ipproto::TCP])
        .attr(Attr::SvcAddr, &[192, 0, 2, 100])
        .attr(Attr::SvcPort, &80u16.to_ne_bytes())
        .attr(Attr::SvcSched, b"rr\0")
        .attr(Attr::SvcFlags, &0u32.to_ne_bytes())
        .attr(Attr::SvcDests, &3u32.to_ne_bytes())
        .attr(Attr::StatConns, &1523u64.to_ne_bytes())
        .attr(Attr::StatInpkts, &98234u64.to_ne_bytes())
        .attr(Attr::StatOutbytes, &123_456_789u64.to_ne_bytes())
        .attr(Attr::DropSynRate, &9u64.to_ne_bytes())
        .attr(Attr::DropBlindAck, &2u64.to_ne_bytes());
    let genl = Bytes::default()
        .u8(Cmd::GetService.number())
        .u8(1)
        .u16(0)
        .raw(&attrs.0);
    Bytes::msg(FAMILY, libc::NLM_F_MULTI as u16, seq, &genl.0)
}

#[test]
fn dump_of_services_then_done() {
    let mut buf = service_reply(SEQ);
    buf.extend(service_reply(SEQ));
    buf.extend(Bytes::msg(
        libc::NLMSG_DONE as u16,
        libc::NLM_F_MULTI as u16,
        SEQ,
        &0i32.to_ne_bytes(),
    ));
    let msgs = parse_all(&buf);
    assert_eq!(msgs.len(), 3);
    let Ok(Step::Data(map, version)) = handle_message(&msgs[0], SEQ) else {
        panic!("expected data");
    };
    assert_eq!(version, 1);
    let s = decode_service(&map).unwrap();
    assert_eq!(s.key, tcp80());
    assert_eq!(s.scheduler, "rr");
    assert_eq!(s.flags, 0);
    assert_eq!(s.stats.conns, 1523);
    assert_eq!(s.stats.inpkts, 98234);
    assert_eq!(s.stats.outpkts, 0);
    assert_eq!(s.stats.outbytes, 123_456_789);
    assert_eq!(s.drops.get(DropReason::SynRate), 9);
    assert_eq!(s.drops.get(DropReason::BlindAck), 2);
    assert!(s.dests.is_empty());
    assert!(matches!(handle_message(&msgs[1], SEQ), Ok(Step::Data(..))));
    assert_eq!(handle_message(&msgs[2], SEQ), Ok(Step::Done));
}

#[test]
fn dump_ending_in_an_error() {
    let payload = Bytes::default()
        .i32(-libc::EPERM)
        .attr(NLMSGERR_ATTR_MSG, b"need CAP_NET_ADMIN\0");
    let buf = Bytes::msg(
        libc::NLMSG_DONE as u16,
        (libc::NLM_F_MULTI | libc::NLM_F_ACK_TLVS) as u16,
        SEQ,
        &payload.0,
    );
    let msgs = parse_all(&buf);
    assert_eq!(
        handle_message(&msgs[0], SEQ),
        Err(NlError::Errno {
            errno: libc::EPERM,
            message: Some("need CAP_NET_ADMIN".into())
        })
    );
}

#[test]
fn family_reply_carries_the_id() {
    let genl = Bytes::default()
        .u8(libc::CTRL_CMD_NEWFAMILY as u8)
        .u8(2)
        .u16(0)
        .attr(libc::CTRL_ATTR_FAMILY_NAME as u16, b"IPVS_DEFENSE\0")
        .attr(libc::CTRL_ATTR_FAMILY_ID as u16, &FAMILY.to_ne_bytes());
    let buf = Bytes::msg(libc::GENL_ID_CTRL as u16, 0, 1, &genl.0);
    let msgs = parse_all(&buf);
    let Ok(Step::Data(map, _)) = handle_message(&msgs[0], 1) else {
        panic!("expected data");
    };
    assert_eq!(
        map.get(&(libc::CTRL_ATTR_FAMILY_ID as u16)),
        Some(&FAMILY.to_ne_bytes().to_vec())
    );
}

fn map(entries: &[(u16, Vec<u8>)]) -> AttrMap {
    entries.iter().cloned().collect()
}

#[test]
fn decode_dest_reply() {
    let m = map(&[
        (Attr::DestAddr.number(), vec![198, 51, 100, 3]),
        (Attr::DestPort.number(), 8080u16.to_ne_bytes().to_vec()),
        (Attr::DestWeight.number(), 2u32.to_ne_bytes().to_vec()),
        (Attr::DestActive.number(), 12u32.to_ne_bytes().to_vec()),
        (Attr::DestInactive.number(), 3u32.to_ne_bytes().to_vec()),
        (Attr::StatConns.number(), 700u64.to_ne_bytes().to_vec()),
        (
            Attr::StatInbytes.number(),
            2_892_344u64.to_ne_bytes().to_vec(),
        ),
    ]);
    let d = decode_dest(&m).unwrap();
    assert_eq!(d.addr, ip("198.51.100.3"));
    assert_eq!((d.port, d.weight, d.active, d.inactive), (8080, 2, 12, 3));
    assert_eq!((d.stats.conns, d.stats.inbytes), (700, 2_892_344));
}

#[test]
fn decode_conn_reply() {
    let m = map(&[
        (Attr::ConnProtocol.number(), vec![ipproto::UDP]),
        (Attr::ConnCaddr.number(), vec![203, 0, 113, 9]),
        (Attr::ConnCport.number(), 5353u16.to_ne_bytes().to_vec()),
        (Attr::ConnVaddr.number(), vec![192, 0, 2, 100]),
        (Attr::ConnVport.number(), 53u16.to_ne_bytes().to_vec()),
        (Attr::ConnDaddr.number(), vec![198, 51, 100, 4]),
        (Attr::ConnDport.number(), 53u16.to_ne_bytes().to_vec()),
        (Attr::ConnState.number(), vec![0]),
        (Attr::ConnExpires.number(), 300u32.to_ne_bytes().to_vec()),
    ]);
    assert_eq!(decode_conn(&m).unwrap(), connections()[4]);
    let mut tcp = m.clone();
    tcp.insert(Attr::ConnProtocol.number(), vec![ipproto::TCP]);
    tcp.insert(Attr::ConnState.number(), vec![10]);
    let c = decode_conn(&tcp).unwrap();
    assert_eq!(c.protocol, Protocol::Tcp);
    assert_eq!(c.state_name(), "SYNACK");
}

#[test]
fn decode_defense_and_stats_replies() {
    let m = map(&[
        (Attr::DefLevel.number(), 0u32.to_ne_bytes().to_vec()),
        (Attr::DefEffective.number(), 1u32.to_ne_bytes().to_vec()),
        (Attr::DefAvailable.number(), 1999u64.to_ne_bytes().to_vec()),
        (Attr::DefAmemthresh.number(), 2560u64.to_ne_bytes().to_vec()),
        (Attr::DefDropRate.number(), 5u32.to_ne_bytes().to_vec()),
        (Attr::DefSwitches.number(), 3u64.to_ne_bytes().to_vec()),
    ]);
    assert_eq!(decode_defense(&m).unwrap(), defense_info());
    let g = map(&[
        (Attr::StatConns.number(), 10u64.to_ne_bytes().to_vec()),
        (Attr::StatInpkts.number(), 20u64.to_ne_bytes().to_vec()),
        (Attr::StatOutpkts.number(), 30u64.to_ne_bytes().to_vec()),
        (Attr::StatInbytes.number(), 40u64.to_ne_bytes().to_vec()),
        (Attr::StatOutbytes.number(), 50u64.to_ne_bytes().to_vec()),
        (Attr::DropSynRate.number(), 1000u64.to_ne_bytes().to_vec()),
        (Attr::DropEvictions.number(), 20u64.to_ne_bytes().to_vec()),
        (Attr::DropRoute.number(), 0u64.to_ne_bytes().to_vec()),
        (Attr::DropZombie.number(), 5u64.to_ne_bytes().to_vec()),
        (Attr::DropTableFull.number(), 0u64.to_ne_bytes().to_vec()),
        (Attr::DropMalformed.number(), 2u64.to_ne_bytes().to_vec()),
        (Attr::DropBlindAck.number(), 17u64.to_ne_bytes().to_vec()),
        (Attr::DropRewrite.number(), 3u64.to_ne_bytes().to_vec()),
        (Attr::StatEntries.number(), 1234u64.to_ne_bytes().to_vec()),
        (Attr::StatConnMax.number(), 65536u64.to_ne_bytes().to_vec()),
        (
            Attr::KnownClientPasses.number(),
            42u64.to_ne_bytes().to_vec(),
        ),
    ]);
    assert_eq!(decode_global(&g, 1).unwrap(), global());
}

#[test]
fn malformed_replies_are_errors() {
    // Wrong size.
    let m = map(&[
        (Attr::SvcProtocol.number(), vec![ipproto::TCP]),
        (Attr::SvcAddr.number(), vec![192, 0, 2]),
        (Attr::SvcPort.number(), 80u16.to_ne_bytes().to_vec()),
        (Attr::SvcSched.number(), b"rr\0".to_vec()),
    ]);
    assert_eq!(
        decode_service(&m),
        Err(NlError::Protocol(
            "attribute 2 has 3 bytes, expected 4".into()
        ))
    );
    // Missing.
    let m = map(&[(Attr::DefLevel.number(), 0u32.to_ne_bytes().to_vec())]);
    assert_eq!(
        decode_defense(&m),
        Err(NlError::Protocol(
            "reply lacks attribute DefEffective (34)".into()
        ))
    );
    // Unknown protocol.
    let m = map(&[
        (Attr::SvcProtocol.number(), vec![132]),
        (Attr::SvcAddr.number(), vec![192, 0, 2, 100]),
        (Attr::SvcPort.number(), 80u16.to_ne_bytes().to_vec()),
        (Attr::SvcSched.number(), b"rr\0".to_vec()),
    ]);
    assert_eq!(
        decode_service(&m),
        Err(NlError::Protocol("unknown protocol 132".into()))
    );
}
