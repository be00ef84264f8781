// SPDX-License-Identifier: GPL-2.0

//! `proto_attrs`: the `IPVS_DEFENSE` netlink messages as `ipvsdadm` reads them.
//!
//! `logic/proto.rs` defines the protocol (commands, attribute numbers, byte orders) but
//! parses nothing; the kernel side parses requests with the kernel's own policy (C, not
//! reachable from the host); so this target fuzzes what the host has: `ipvsdadm`'s reply
//! handling in `userspace/src/netlink.rs` (neli's parsing, `handle_message`, the
//! `decode_*` functions) and its formatting of what it decoded.
//!
//! The input is used twice:
//! 1. as a stream of netlink messages, as the socket hands them to neli;
//! 2. as the attribute area of one generic netlink reply, behind headers built here (so
//!    that the fuzzer reaches the decoders without having to keep the lengths right).
//!
//! Properties:
//! - no panic, whatever the bytes (neli, `handle_message`, every decoder, the formatters);
//! - neli reads the attributes the way the kernel lays them out: its list equals a
//!   reference walk of the attribute area (`nla_len`, `nla_type` less the two flag bits,
//!   payload, 4-byte alignment), and it accepts every well-formed area (padding of the
//!   last attribute included: neli refuses an area without it, which the kernel would
//!   accept in a request but never writes in a reply);
//! - a parsed message serialises and reparses to the same message;
//! - `handle_message` gives the last value of each attribute type, the reply's version,
//!   `Done` for an ACK/`NLMSG_DONE`, `Skip` for another sequence number, and the errno;
//! - what a decoder accepts re-encodes to the very bytes it read (each attribute present
//!   has its exact size and byte order: addresses network order, ports and counters host
//!   order) and decodes again to the same value, both through the tool's own request
//!   encoder (`build_request`, where its `AttrValue`s suffice) and through an independent
//!   byte encoder written here, and the two encoders agree byte for byte;
//! - the JSON listings of what was decoded are valid JSON carrying the decoded strings.
#![no_main]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::Ipv4Addr;

use ipvsd_logic::drops::DropReason;
use ipvsd_logic::proto::{Attr, Cmd, VERSION};
use ipvsdadm::args::ListMode;
use ipvsdadm::client::NlError;
use ipvsdadm::format::{format_connections, format_list, FormatOpts};
use ipvsdadm::json;
use ipvsdadm::model::{ConnView, DefenseInfo, DestView, GlobalStats, ServiceKey, ServiceView};
use ipvsdadm::netlink::{
    build_request, decode_conn, decode_defense, decode_dest, decode_global, decode_service,
    decode_service_key, dest_attrs, handle_message, service_attrs, to_bytes, AttrMap, AttrValue,
    NlMsg, Step,
};
use libfuzzer_sys::fuzz_target;
use neli::consts::nl::NlmF;
use neli::FromBytes;

const FAMILY: u16 = 0x20;
const PID: u32 = 0x1234;
const SEQ: u32 = 0x5eed;

/// An attribute list: (type, payload) in order.
type Attrs = Vec<(u16, Vec<u8>)>;

/// Netlink's layout, written plainly: a message of `nl_type` carrying a generic netlink
/// header and `attrs` (lengths in host order, each attribute padded to 4 bytes).
fn encode(nl_type: u16, flags: u16, seq: u32, command: u8, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![command, VERSION, 0, 0];
    for (ty, payload) in attrs {
        body.extend_from_slice(&(4 + payload.len() as u16).to_ne_bytes());
        body.extend_from_slice(&ty.to_ne_bytes());
        body.extend_from_slice(payload);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
    }
    let mut msg = Vec::new();
    msg.extend_from_slice(&(16 + body.len() as u32).to_ne_bytes());
    msg.extend_from_slice(&nl_type.to_ne_bytes());
    msg.extend_from_slice(&flags.to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&PID.to_ne_bytes());
    msg.extend_from_slice(&body);
    msg
}

/// The reference walk of an attribute area, as the kernel's `nla_for_each_attr`:
/// `Some((list, padded))` when every attribute is whole (nothing left over but at most the
/// last one's padding), `None` otherwise; `padded` when the last one's padding is there
/// too, as the kernel always writes it (`nla_put` reserves `NLA_ALIGN(len)`).
fn walk(mut area: &[u8]) -> Option<(Attrs, bool)> {
    let mut out = Vec::new();
    let mut padded = true;
    while !area.is_empty() {
        if area.len() < 4 {
            return None;
        }
        let len = usize::from(u16::from_ne_bytes([area[0], area[1]]));
        let ty = u16::from_ne_bytes([area[2], area[3]]) & 0x3fff;
        if len < 4 || len > area.len() {
            return None;
        }
        out.push((ty, area[4..len].to_vec()));
        let next = len.div_ceil(4) * 4;
        padded = next <= area.len();
        area = area.get(next..).unwrap_or(&[]);
    }
    Some((out, padded))
}

/// The attributes of a list as `handle_message` keeps them: the last of each type.
fn last_of_each(attrs: &[(u16, Vec<u8>)]) -> AttrMap {
    attrs.iter().cloned().collect::<BTreeMap<_, _>>()
}

fn parse_one(bytes: &[u8]) -> NlMsg {
    NlMsg::from_bytes(&mut Cursor::new(bytes)).expect("neli reads a message built here")
}

/// Sends `attrs` through both encoders and neli, and returns the map the tool reads.
fn through_the_wire(attrs: &[(u16, Vec<u8>)], values: Option<&[(Attr, AttrValue)]>) -> AttrMap {
    let raw = encode(FAMILY, 0x5, SEQ, Cmd::GetService.number(), attrs);
    if let Some(values) = values {
        let msg = build_request(
            FAMILY,
            SEQ,
            PID,
            Cmd::GetService.number(),
            VERSION,
            NlmF::ACK,
            values,
        )
        .expect("build_request");
        assert_eq!(
            to_bytes(&msg).expect("to_bytes"),
            raw,
            "the encoders disagree"
        );
    }
    match handle_message(&parse_one(&raw), SEQ) {
        Ok(Step::Data(map, v)) => {
            assert_eq!(v, VERSION);
            map
        }
        other => panic!("a reply built here read as {other:?}"),
    }
}

fn u8a(ty: Attr, v: u8) -> (u16, Vec<u8>) {
    (ty.number(), vec![v])
}
fn u16a(ty: Attr, v: u16) -> (u16, Vec<u8>) {
    (ty.number(), v.to_ne_bytes().to_vec())
}
fn u32a(ty: Attr, v: u32) -> (u16, Vec<u8>) {
    (ty.number(), v.to_ne_bytes().to_vec())
}
fn u64a(ty: Attr, v: u64) -> (u16, Vec<u8>) {
    (ty.number(), v.to_ne_bytes().to_vec())
}
fn addra(ty: Attr, a: Ipv4Addr) -> (u16, Vec<u8>) {
    (ty.number(), a.octets().to_vec())
}

/// Every attribute of `canon` that `original` has holds the very same bytes.
fn same_bytes(original: &AttrMap, canon: &[(u16, Vec<u8>)], what: &str) {
    for (ty, v) in canon {
        if let Some(o) = original.get(ty) {
            assert_eq!(
                o, v,
                "{what}: attribute {ty} decoded and re-encoded differently"
            );
        }
    }
}

fn key_attrs(k: &ServiceKey) -> Attrs {
    vec![
        u8a(Attr::SvcProtocol, k.protocol.number()),
        addra(Attr::SvcAddr, k.addr),
        u16a(Attr::SvcPort, k.port),
    ]
}

fn stats_attrs(s: &ipvsdadm::model::Stats) -> Attrs {
    vec![
        u64a(Attr::StatConns, s.conns),
        u64a(Attr::StatInpkts, s.inpkts),
        u64a(Attr::StatOutpkts, s.outpkts),
        u64a(Attr::StatInbytes, s.inbytes),
        u64a(Attr::StatOutbytes, s.outbytes),
    ]
}

fn drops_attrs(d: &ipvsdadm::model::Drops) -> Attrs {
    DropReason::ALL
        .into_iter()
        .map(|r| u64a(r.attr(), d.get(r)))
        .collect()
}

fn service_roundtrip(m: &AttrMap) -> Option<ServiceView> {
    if let Ok(key) = decode_service_key(m) {
        let canon = key_attrs(&key);
        same_bytes(m, &canon, "service key");
        let values = service_attrs(&key);
        let back = through_the_wire(&canon, Some(&values));
        assert_eq!(back, last_of_each(&canon));
        assert_eq!(decode_service_key(&back).ok(), Some(key));
        // The tool's request for a real server of that service too.
        let dest = ipvsdadm::model::DestKey {
            addr: key.addr,
            port: key.port.rotate_left(3),
        };
        let mut canon = canon;
        canon.push(addra(Attr::DestAddr, dest.addr));
        canon.push(u16a(Attr::DestPort, dest.port));
        through_the_wire(&canon, Some(&dest_attrs(&key, &dest)));
    }
    let sv = decode_service(m).ok()?;
    let mut canon = key_attrs(&sv.key);
    let mut sched = sv.scheduler.clone().into_bytes();
    sched.push(0);
    canon.push((Attr::SvcSched.number(), sched));
    canon.push(u32a(Attr::SvcFlags, sv.flags));
    canon.extend(stats_attrs(&sv.stats));
    canon.extend(drops_attrs(&sv.drops));
    // The scheduler's bytes are the original's up to its first NUL (when valid UTF-8).
    let orig = &m[&Attr::SvcSched.number()];
    let end = orig.iter().position(|&b| b == 0).unwrap_or(orig.len());
    if let Ok(s) = std::str::from_utf8(&orig[..end]) {
        assert_eq!(s, sv.scheduler);
    }
    same_bytes(
        m,
        &canon
            .iter()
            .filter(|(t, _)| *t != Attr::SvcSched.number())
            .cloned()
            .collect::<Vec<_>>(),
        "service",
    );
    let mut values = service_attrs(&sv.key);
    values.push((Attr::SvcSched, AttrValue::Str(sv.scheduler.clone())));
    values.push((Attr::SvcFlags, AttrValue::U32(sv.flags)));
    let back = through_the_wire(&canon[..5], Some(&values));
    let back_full = through_the_wire(&canon, None);
    assert_eq!(back, last_of_each(&canon[..5]));
    assert_eq!(decode_service(&back_full).as_ref(), Ok(&sv));
    Some(sv)
}

fn dest_roundtrip(m: &AttrMap) -> Option<DestView> {
    let dv = decode_dest(m).ok()?;
    let mut canon = vec![
        addra(Attr::DestAddr, dv.addr),
        u16a(Attr::DestPort, dv.port),
        u32a(Attr::DestWeight, dv.weight),
        u32a(Attr::DestActive, dv.active),
        u32a(Attr::DestInactive, dv.inactive),
    ];
    let values = vec![
        (Attr::DestAddr, AttrValue::Addr(dv.addr)),
        (Attr::DestPort, AttrValue::U16(dv.port)),
        (Attr::DestWeight, AttrValue::U32(dv.weight)),
        (Attr::DestActive, AttrValue::U32(dv.active)),
        (Attr::DestInactive, AttrValue::U32(dv.inactive)),
    ];
    through_the_wire(&canon, Some(&values));
    canon.extend(stats_attrs(&dv.stats));
    same_bytes(m, &canon, "dest");
    assert_eq!(
        decode_dest(&through_the_wire(&canon, None)).as_ref(),
        Ok(&dv)
    );
    Some(dv)
}

fn conn_roundtrip(m: &AttrMap) -> Option<ConnView> {
    let c = decode_conn(m).ok()?;
    let canon = vec![
        u8a(Attr::ConnProtocol, c.protocol.number()),
        addra(Attr::ConnCaddr, c.caddr),
        u16a(Attr::ConnCport, c.cport),
        addra(Attr::ConnVaddr, c.vaddr),
        u16a(Attr::ConnVport, c.vport),
        addra(Attr::ConnDaddr, c.daddr),
        u16a(Attr::ConnDport, c.dport),
        u8a(Attr::ConnState, c.state),
        u32a(Attr::ConnExpires, c.expires),
    ];
    let values = vec![
        (Attr::ConnProtocol, AttrValue::U8(c.protocol.number())),
        (Attr::ConnCaddr, AttrValue::Addr(c.caddr)),
        (Attr::ConnCport, AttrValue::U16(c.cport)),
        (Attr::ConnVaddr, AttrValue::Addr(c.vaddr)),
        (Attr::ConnVport, AttrValue::U16(c.vport)),
        (Attr::ConnDaddr, AttrValue::Addr(c.daddr)),
        (Attr::ConnDport, AttrValue::U16(c.dport)),
        (Attr::ConnState, AttrValue::U8(c.state)),
        (Attr::ConnExpires, AttrValue::U32(c.expires)),
    ];
    same_bytes(m, &canon, "conn");
    let back = through_the_wire(&canon, Some(&values));
    assert_eq!(decode_conn(&back).ok(), Some(c));
    Some(c)
}

fn global_roundtrip(m: &AttrMap, version: u8) {
    let Ok(g) = decode_global(m, version) else {
        return;
    };
    let mut canon = stats_attrs(&g.stats);
    canon.extend(drops_attrs(&g.drops));
    canon.push(u64a(Attr::StatEntries, g.entries));
    canon.push(u64a(Attr::StatConnMax, g.conn_max));
    canon.push(u64a(Attr::KnownClientPasses, g.known_client_passes));
    same_bytes(m, &canon, "global");
    let back = through_the_wire(&canon, None);
    assert_eq!(decode_global(&back, version).ok(), Some(g));
    assert_eq!(g.version, version);
    let _: GlobalStats = g;
}

fn defense_roundtrip(m: &AttrMap) {
    let Ok(d) = decode_defense(m) else {
        return;
    };
    let mut canon = vec![
        u32a(Attr::DefLevel, d.level),
        u32a(Attr::DefEffective, d.effective),
        u64a(Attr::DefAvailable, d.available_pages),
        u64a(Attr::DefAmemthresh, d.amemthresh_pages),
        u32a(Attr::DefDropRate, d.drop_rate),
        u64a(Attr::DefSwitches, d.switches),
    ];
    if let Some(p) = d.known_client_passes {
        canon.push(u64a(Attr::KnownClientPasses, p));
    }
    if let Some((hi, lo)) = d.fill_watermarks {
        canon.push(u32a(Attr::DefFillHigh, hi));
        canon.push(u32a(Attr::DefFillLow, lo));
    }
    same_bytes(m, &canon, "defense");
    let back = through_the_wire(&canon, None);
    assert_eq!(decode_defense(&back).ok(), Some(d));
    let _: DefenseInfo = d;
}

/// neli 0.7.5 computes lengths with unchecked subtractions where a message is shorter
/// than it says it quotes: `nlmsg_len` below the 16-byte header (`nl.rs`:
/// `nl_len as usize - Self::header_size()`), the same in the header an `NLMSG_ERROR`
/// quotes (`err.rs`), an error or `NLMSG_DONE` too short for what it carries (`nl.rs`,
/// `err.rs`: `input - error.padded_size() - nlmsg.padded_size()`). With overflow checks
/// (a debug build of ipvsdadm, and these fuzz builds) that is a panic; in a release build
/// a wrapped length that then fails to read. The kernel never sends such a message. So
/// that the fuzzer gets past them, a panic raised inside neli's own source while neli
/// parses is taken as a refused message, unless `FUZZ_STRICT=1` is set; any other panic
/// is a crash as usual.
fn neli_parse(bytes: &mut Cursor<&[u8]>) -> Result<NlMsg, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    thread_local! {
        static IN_NELI: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *STRICT.get_or_init(|| std::env::var_os("FUZZ_STRICT").is_some_and(|v| v == "1")) {
        return NlMsg::from_bytes(bytes).map_err(|e| e.to_string());
    }
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_neli_source = info
                .location()
                .is_some_and(|l| l.file().contains("/neli-0.7.5/"));
            if !(IN_NELI.with(|c| c.get()) && in_neli_source) {
                fuzzer_hook(info);
            }
        }));
    });
    let pos = bytes.position();
    IN_NELI.with(|c| c.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| NlMsg::from_bytes(bytes)));
    IN_NELI.with(|c| c.set(false));
    match r {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => {
            bytes.set_position(pos);
            Err("neli panicked (a known unchecked subtraction)".into())
        }
    }
}

/// Everything the tool does with one received message.
fn check_msg(msg: &NlMsg) {
    // A parsed message serialises and reads back the same.
    if let Ok(bytes) = to_bytes(msg) {
        let again = neli_parse(&mut Cursor::new(&bytes[..]));
        assert_eq!(
            again.as_ref().ok(),
            Some(msg),
            "reserialised message differs"
        );
    }
    let seq = *msg.nl_seq();
    assert_eq!(
        handle_message(msg, seq.wrapping_add(1)).ok(),
        Some(Step::Skip)
    );
    let step = handle_message(msg, seq);
    match (msg.nl_payload(), &step) {
        (neli::nl::NlPayload::Payload(g), Ok(Step::Data(map, v))) => {
            assert_eq!(*v, *g.version());
            let list: Attrs = g
                .attrs()
                .iter()
                .map(|a| (*a.nla_type().nla_type(), a.nla_payload().as_ref().to_vec()))
                .collect();
            assert_eq!(*map, last_of_each(&list));
        }
        // A negative errno is the kernel's error; any other code is a protocol error.
        (neli::nl::NlPayload::Err(e), Err(NlError::Errno { errno, message })) => {
            assert!(*errno > 0);
            assert_eq!(errno.wrapping_neg(), *e.error());
            if let Some(s) = message {
                assert!(!s.is_empty() && !s.contains('\0'));
            }
        }
        (neli::nl::NlPayload::Err(e), Err(NlError::Protocol(_))) => {
            assert!(*e.error() >= 0 || *e.error() == i32::MIN);
        }
        (neli::nl::NlPayload::Ack(_), Ok(Step::Done)) => {}
        (neli::nl::NlPayload::DumpExtAck(e), r) => {
            assert_eq!(*e.error() == 0, matches!(r, Ok(Step::Done)));
        }
        (neli::nl::NlPayload::Empty, Ok(Step::Done | Step::Skip)) => {}
        (p, r) => panic!("handle_message gave {r:?} for {p:?}"),
    }
    let Ok(Step::Data(m, version)) = step else {
        return;
    };
    let sv = service_roundtrip(&m);
    let dv = dest_roundtrip(&m);
    let cv = conn_roundtrip(&m);
    global_roundtrip(&m, version);
    defense_roundtrip(&m);

    // The listings of what was decoded.
    if let Some(mut sv) = sv {
        sv.dests.extend(dv);
        for mode in [ListMode::Plain, ListMode::Stats, ListMode::Rate] {
            let opts = FormatOpts {
                mode,
                exact: version & 1 != 0,
                header: None,
            };
            let text = format_list(std::slice::from_ref(&sv), &opts);
            assert!(text.ends_with('\n'));
            if mode == ListMode::Plain {
                let line = format!(":{} {}\n", sv.key.port, sv.scheduler);
                assert!(text.contains(&line), "no scheduler in {text:?}");
            }
        }
        let json = json::list(std::slice::from_ref(&sv), None);
        let v: serde_json::Value = serde_json::from_str(&json).expect("json_list is JSON");
        assert_eq!(
            v["services"][0]["scheduler"].as_str(),
            Some(sv.scheduler.as_str())
        );
    }
    if let Some(c) = cv {
        let text = format_connections(&[c]);
        assert_eq!(text.lines().count(), 3);
        let json = json::connections(&[c]);
        let v: serde_json::Value = serde_json::from_str(&json).expect("json is JSON");
        assert_eq!(
            v["connections"][0]["expires"].as_u64(),
            Some(u64::from(c.expires))
        );
    }
}

fuzz_target!(|data: &[u8]| {
    // 1. A stream of messages.
    let mut cur: Cursor<&[u8]> = Cursor::new(data);
    while (cur.position() as usize) < data.len() {
        let pos = cur.position();
        match neli_parse(&mut cur) {
            Ok(msg) => check_msg(&msg),
            Err(_) => {
                assert_eq!(cur.position(), pos, "a failed parse moved the cursor");
                break;
            }
        }
        if cur.position() <= pos {
            break;
        }
    }

    // 2. The attribute area of one reply.
    if data.len() > 0xffff - 20 {
        return;
    }
    let mut msg = encode(FAMILY, 0x2, SEQ, Cmd::GetService.number(), &[]);
    msg.extend_from_slice(data);
    let len = msg.len() as u32;
    msg[..4].copy_from_slice(&len.to_ne_bytes());
    let parsed = neli_parse(&mut Cursor::new(&msg[..]));
    let reference = walk(data);
    match (&parsed, &reference) {
        (Ok(m), _) => {
            let neli::nl::NlPayload::Payload(g) = m.nl_payload() else {
                panic!("a generic netlink reply read as {:?}", m.nl_payload());
            };
            let list: Attrs = g
                .attrs()
                .iter()
                .map(|a| (*a.nla_type().nla_type(), a.nla_payload().as_ref().to_vec()))
                .collect();
            let want = reference.as_ref().map(|(l, _)| l);
            assert_eq!(Some(&list), want, "neli reads other attributes");
            check_msg(m);
        }
        // neli wants the last attribute's padding, which the kernel always sends; without
        // it neli refuses an area the kernel would accept (harmless for replies).
        (Err(e), Some((list, true))) => panic!("neli refused a well-formed area ({e}): {list:?}"),
        (Err(_), _) => {}
    }
});
