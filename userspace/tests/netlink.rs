//! The wire format without a kernel: requests built by neli checked byte by byte, and
//! replies written here as the kernel would send them, parsed by neli and interpreted.

mod common;

use std::io::Cursor;

use common::*;
use ipvsd_logic::proto::{attr, cmd, ipproto};
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
    fn attr(self, ty: u16, payload: &[u8]) -> Self {
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
    a.push((attr::SVC_SCHED, AttrValue::Str("rr".into())));
    let msg = build_request(FAMILY, SEQ, PID, cmd::NEW_SERVICE, 1, NlmF::ACK, &a).unwrap();
    to_bytes(&msg).unwrap()
}

#[test]
fn new_service_request_bytes() {
    let attrs = Bytes::default()
        .attr(attr::SVC_PROTOCOL, &[ipproto::TCP])
        // The VIP in network order: the address bytes in order.
        .attr(attr::SVC_ADDR, &[192, 0, 2, 100])
        // The port in host order.
        .attr(attr::SVC_PORT, &80u16.to_ne_bytes())
        .attr(attr::SVC_SCHED, b"rr\0");
    let genl = Bytes::default()
        .u8(cmd::NEW_SERVICE)
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
    a.push((attr::DEST_WEIGHT, AttrValue::U32(65535)));
    let msg = build_request(FAMILY, 9, PID, cmd::SET_DEST, 1, NlmF::ACK, &a).unwrap();
    let attrs = Bytes::default()
        .attr(attr::SVC_PROTOCOL, &[ipproto::UDP])
        .attr(attr::SVC_ADDR, &[192, 0, 2, 100])
        .attr(attr::SVC_PORT, &53u16.to_ne_bytes())
        .attr(attr::DEST_ADDR, &[198, 51, 100, 2])
        .attr(attr::DEST_PORT, &8080u16.to_ne_bytes())
        .attr(attr::DEST_WEIGHT, &65535u32.to_ne_bytes());
    let genl = Bytes::default()
        .u8(cmd::SET_DEST)
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
    let msg = build_request(FAMILY, 3, PID, cmd::GET_CONN, 1, NlmF::DUMP, &[]).unwrap();
    let genl = Bytes::default().u8(cmd::GET_CONN).u8(1).u16(0);
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
        .attr(attr::SVC_PROTOCOL, &[ipproto::TCP])
        .attr(attr::SVC_ADDR, &[192, 0, 2, 100])
        .attr(attr::SVC_PORT, &80u16.to_ne_bytes())
        .attr(attr::SVC_SCHED, b"rr\0")
        .attr(attr::SVC_FLAGS, &0u32.to_ne_bytes())
        .attr(attr::SVC_DESTS, &3u32.to_ne_bytes())
        .attr(attr::STAT_CONNS, &1523u64.to_ne_bytes())
        .attr(attr::STAT_INPKTS, &98234u64.to_ne_bytes())
        .attr(attr::STAT_OUTBYTES, &123_456_789u64.to_ne_bytes())
        .attr(attr::DROP_SYN_RATE, &9u64.to_ne_bytes())
        .attr(attr::DROP_BLIND_ACK, &2u64.to_ne_bytes());
    let genl = Bytes::default()
        .u8(cmd::GET_SERVICE)
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
    assert_eq!(s.drops.syn_rate_drops, 9);
    assert_eq!(s.drops.blind_acks, 2);
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
        (attr::DEST_ADDR, vec![198, 51, 100, 3]),
        (attr::DEST_PORT, 8080u16.to_ne_bytes().to_vec()),
        (attr::DEST_WEIGHT, 2u32.to_ne_bytes().to_vec()),
        (attr::DEST_ACTIVE, 12u32.to_ne_bytes().to_vec()),
        (attr::DEST_INACTIVE, 3u32.to_ne_bytes().to_vec()),
        (attr::STAT_CONNS, 700u64.to_ne_bytes().to_vec()),
        (attr::STAT_INBYTES, 2_892_344u64.to_ne_bytes().to_vec()),
    ]);
    let d = decode_dest(&m).unwrap();
    assert_eq!(d.addr, ip("198.51.100.3"));
    assert_eq!((d.port, d.weight, d.active, d.inactive), (8080, 2, 12, 3));
    assert_eq!((d.stats.conns, d.stats.inbytes), (700, 2_892_344));
}

#[test]
fn decode_conn_reply() {
    let m = map(&[
        (attr::CONN_PROTOCOL, vec![ipproto::UDP]),
        (attr::CONN_CADDR, vec![203, 0, 113, 9]),
        (attr::CONN_CPORT, 5353u16.to_ne_bytes().to_vec()),
        (attr::CONN_VADDR, vec![192, 0, 2, 100]),
        (attr::CONN_VPORT, 53u16.to_ne_bytes().to_vec()),
        (attr::CONN_DADDR, vec![198, 51, 100, 4]),
        (attr::CONN_DPORT, 53u16.to_ne_bytes().to_vec()),
        (attr::CONN_STATE, vec![0]),
        (attr::CONN_EXPIRES, 300u32.to_ne_bytes().to_vec()),
    ]);
    assert_eq!(decode_conn(&m).unwrap(), connections()[4]);
    let mut tcp = m.clone();
    tcp.insert(attr::CONN_PROTOCOL, vec![ipproto::TCP]);
    tcp.insert(attr::CONN_STATE, vec![10]);
    let c = decode_conn(&tcp).unwrap();
    assert_eq!(c.protocol, Protocol::Tcp);
    assert_eq!(c.state_name(), "SYNACK");
}

#[test]
fn decode_defense_and_stats_replies() {
    let m = map(&[
        (attr::DEF_LEVEL, 0u32.to_ne_bytes().to_vec()),
        (attr::DEF_EFFECTIVE, 1u32.to_ne_bytes().to_vec()),
        (attr::DEF_AVAILABLE, 1999u64.to_ne_bytes().to_vec()),
        (attr::DEF_AMEMTHRESH, 2560u64.to_ne_bytes().to_vec()),
        (attr::DEF_DROP_RATE, 5u32.to_ne_bytes().to_vec()),
        (attr::DEF_SWITCHES, 3u64.to_ne_bytes().to_vec()),
    ]);
    assert_eq!(decode_defense(&m).unwrap(), defense_info());
    let g = map(&[
        (attr::STAT_CONNS, 10u64.to_ne_bytes().to_vec()),
        (attr::STAT_INPKTS, 20u64.to_ne_bytes().to_vec()),
        (attr::STAT_OUTPKTS, 30u64.to_ne_bytes().to_vec()),
        (attr::STAT_INBYTES, 40u64.to_ne_bytes().to_vec()),
        (attr::STAT_OUTBYTES, 50u64.to_ne_bytes().to_vec()),
        (attr::DROP_SYN_RATE, 1000u64.to_ne_bytes().to_vec()),
        (attr::DROP_EVICTIONS, 20u64.to_ne_bytes().to_vec()),
        (attr::DROP_ROUTE, 0u64.to_ne_bytes().to_vec()),
        (attr::DROP_ZOMBIE, 5u64.to_ne_bytes().to_vec()),
        (attr::DROP_TABLE_FULL, 0u64.to_ne_bytes().to_vec()),
        (attr::DROP_MALFORMED, 2u64.to_ne_bytes().to_vec()),
        (attr::DROP_BLIND_ACK, 17u64.to_ne_bytes().to_vec()),
        (attr::STAT_ENTRIES, 1234u64.to_ne_bytes().to_vec()),
        (attr::STAT_CONN_MAX, 65536u64.to_ne_bytes().to_vec()),
        (attr::KNOWN_CLIENT_PASSES, 42u64.to_ne_bytes().to_vec()),
    ]);
    assert_eq!(decode_global(&g, 1).unwrap(), global());
}

#[test]
fn malformed_replies_are_errors() {
    // Wrong size.
    let m = map(&[
        (attr::SVC_PROTOCOL, vec![ipproto::TCP]),
        (attr::SVC_ADDR, vec![192, 0, 2]),
        (attr::SVC_PORT, 80u16.to_ne_bytes().to_vec()),
        (attr::SVC_SCHED, b"rr\0".to_vec()),
    ]);
    assert_eq!(
        decode_service(&m),
        Err(NlError::Protocol(format!(
            "attribute {} has 3 bytes, expected 4",
            attr::SVC_ADDR
        )))
    );
    // Missing.
    let m = map(&[(attr::DEF_LEVEL, 0u32.to_ne_bytes().to_vec())]);
    assert_eq!(
        decode_defense(&m),
        Err(NlError::Protocol(format!(
            "reply lacks attribute {}",
            attr::DEF_EFFECTIVE
        )))
    );
    // Unknown protocol.
    let m = map(&[
        (attr::SVC_PROTOCOL, vec![132]),
        (attr::SVC_ADDR, vec![192, 0, 2, 100]),
        (attr::SVC_PORT, 80u16.to_ne_bytes().to_vec()),
        (attr::SVC_SCHED, b"rr\0".to_vec()),
    ]);
    assert_eq!(
        decode_service(&m),
        Err(NlError::Protocol("unknown protocol 132".into()))
    );
}
