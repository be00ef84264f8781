// SPDX-License-Identifier: GPL-2.0
//! The `IPVS_DEFENSE` generic netlink client, on `neli`'s synchronous socket.
//!
//! neli builds and parses every header and attribute; this module only chooses commands,
//! flags and attributes (constants from `ipvsd_logic::proto`) and turns replies into the
//! plain structs of [`crate::model`]. Do requests carry `NLM_F_ACK` and end at the ACK (or
//! the error); dumps carry `NLM_F_DUMP` and end at `NLMSG_DONE`. Extended acks are
//! requested (`NETLINK_EXT_ACK`) and their message is kept in [`NlError::Errno`].
//!
//! We use `NlSocketHandle` rather than neli's `NlRouter` because the router's typed error
//! conversion drops the extended-ack attributes.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::Ipv4Addr;

use ipvsd_logic::drops::DropReason;
use ipvsd_logic::proto::{self, Attr, Cmd};
use neli::consts::genl::{CtrlAttr, CtrlCmd};
use neli::consts::nl::{GenlId, NlmF, NlmsgerrAttr};
use neli::consts::socket::NlFamily;
use neli::genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder};
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::types::{Buffer, GenlBuffer};
use neli::utils::Groups;
use neli::{Size, ToBytes};

use crate::client::{Client, NlError};
use crate::model::{
    ConnView, DefenseInfo, DestKey, DestView, Drops, GlobalStats, Protocol, ServiceKey,
    ServiceView, Stats,
};

/// The generic netlink message type we send and receive: `u8` commands, `u16` attributes.
pub type GenlMsg = Genlmsghdr<u8, u16>;
/// A whole netlink message carrying a [`GenlMsg`].
pub type NlMsg = Nlmsghdr<u16, GenlMsg>;

/// The attributes of one reply, by type, as raw payloads.
pub type AttrMap = BTreeMap<u16, Vec<u8>>;

/// The version of the control family's `CTRL_CMD_GETFAMILY`.
const CTRL_VERSION: u8 = 2;

/// How many times a dump interrupted by a concurrent change (`NLM_F_DUMP_INTR`) is redone.
const DUMP_RETRIES: usize = 3;

/// An attribute value to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrValue {
    /// `u8`.
    U8(u8),
    /// `u16`, host order.
    U16(u16),
    /// `u32`, host order.
    U32(u32),
    /// An IPv4 address as a `u32` in network order (the address bytes in order).
    Addr(Ipv4Addr),
    /// A NUL-terminated string.
    Str(String),
}

fn build_err(e: impl std::fmt::Display) -> NlError {
    NlError::Protocol(format!("cannot build request: {e}"))
}

fn nlattr<P: Size + ToBytes>(ty: u16, payload: P) -> Result<Nlattr<u16, Buffer>, NlError> {
    NlattrBuilder::default()
        .nla_type(
            AttrTypeBuilder::default()
                .nla_type(ty)
                .build()
                .map_err(build_err)?,
        )
        .nla_payload(payload)
        .build()
        .map_err(build_err)
}

fn to_nlattr(ty: u16, value: &AttrValue) -> Result<Nlattr<u16, Buffer>, NlError> {
    match value {
        AttrValue::U8(v) => nlattr(ty, *v),
        AttrValue::U16(v) => nlattr(ty, *v),
        AttrValue::U32(v) => nlattr(ty, *v),
        AttrValue::Addr(a) => nlattr(ty, a.octets()),
        AttrValue::Str(s) => nlattr(ty, s.as_str()),
    }
}

/// Builds one request message.
pub fn build_request<A: Copy + Into<u16>>(
    nl_type: u16,
    seq: u32,
    pid: u32,
    command: u8,
    version: u8,
    flags: NlmF,
    attrs: &[(A, AttrValue)],
) -> Result<NlMsg, NlError> {
    let attrs = attrs
        .iter()
        .map(|(ty, v)| to_nlattr((*ty).into(), v))
        .collect::<Result<GenlBuffer<u16, Buffer>, NlError>>()?;
    let genl = GenlmsghdrBuilder::default()
        .cmd(command)
        .version(version)
        .attrs(attrs)
        .build()
        .map_err(build_err)?;
    NlmsghdrBuilder::default()
        .nl_type(nl_type)
        .nl_flags(flags | NlmF::REQUEST)
        .nl_seq(seq)
        .nl_pid(pid)
        .nl_payload(NlPayload::Payload(genl))
        .build()
        .map_err(build_err)
}

/// Serializes a message (what the socket sends), for tests.
pub fn to_bytes(msg: &NlMsg) -> Result<Vec<u8>, NlError> {
    let mut buf = Cursor::new(Vec::new());
    msg.to_bytes(&mut buf)
        .map_err(|e| NlError::Protocol(e.to_string()))?;
    Ok(buf.into_inner())
}

/// What one received message means for the request in progress.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A reply carrying attributes (and the reply's protocol version).
    Data(AttrMap, u8),
    /// The end: the ACK of a do request, or `NLMSG_DONE` of a dump.
    Done,
    /// Not ours (another sequence number) or nothing to take: read on.
    Skip,
}

fn ext_ack_message(ext: &GenlBuffer<NlmsgerrAttr, Buffer>) -> Option<String> {
    ext.iter()
        .find(|a| *a.nla_type().nla_type() == NlmsgerrAttr::Msg)
        .map(|a| {
            let bytes = a.nla_payload().as_ref();
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            String::from_utf8_lossy(&bytes[..end]).into_owned()
        })
        .filter(|s| !s.is_empty())
}

/// Interprets one received message of the request with sequence number `seq`.
/// The error an `NLMSG_ERROR` or `NLMSG_DONE` carries: the kernel sends a negative errno;
/// anything else (0 included, which the callers rule out, or `i32::MIN`, whose negation
/// overflows) is a reply we cannot understand.
fn kernel_error(error: i32, message: Option<String>) -> NlError {
    match error.checked_neg() {
        Some(errno) if errno > 0 => NlError::Errno { errno, message },
        _ => NlError::Protocol(format!("error code {error} is not a negative errno")),
    }
}

pub fn handle_message(msg: &NlMsg, seq: u32) -> Result<Step, NlError> {
    if *msg.nl_seq() != seq {
        return Ok(Step::Skip);
    }
    match msg.nl_payload() {
        NlPayload::Payload(genl) => {
            let mut map = AttrMap::new();
            for a in genl.attrs().iter() {
                map.insert(*a.nla_type().nla_type(), a.nla_payload().as_ref().to_vec());
            }
            Ok(Step::Data(map, *genl.version()))
        }
        NlPayload::Err(e) => Err(kernel_error(*e.error(), ext_ack_message(e.ext_ack()))),
        NlPayload::DumpExtAck(e) => {
            if *e.error() != 0 {
                Err(kernel_error(*e.error(), ext_ack_message(e.ext_ack())))
            } else {
                Ok(Step::Done)
            }
        }
        NlPayload::Ack(_) => Ok(Step::Done),
        NlPayload::Empty => {
            if *msg.nl_type() == u16::from(neli::consts::nl::Nlmsg::Done) {
                Ok(Step::Done)
            } else {
                Ok(Step::Skip)
            }
        }
    }
}

/// Reads an attribute of `N` bytes.
fn fixed<const N: usize>(m: &AttrMap, ty: impl Into<u16>) -> Result<Option<[u8; N]>, NlError> {
    let ty: u16 = ty.into();
    match m.get(&ty) {
        None => Ok(None),
        Some(v) => v.as_slice().try_into().map(Some).map_err(|_| {
            NlError::Protocol(format!(
                "attribute {ty} has {} bytes, expected {N}",
                v.len()
            ))
        }),
    }
}

fn opt_u8(m: &AttrMap, ty: impl Into<u16>) -> Result<Option<u8>, NlError> {
    Ok(fixed::<1>(m, ty)?.map(|b| b[0]))
}

fn opt_u16(m: &AttrMap, ty: impl Into<u16>) -> Result<Option<u16>, NlError> {
    Ok(fixed::<2>(m, ty)?.map(u16::from_ne_bytes))
}

fn opt_u32(m: &AttrMap, ty: impl Into<u16>) -> Result<Option<u32>, NlError> {
    Ok(fixed::<4>(m, ty)?.map(u32::from_ne_bytes))
}

fn opt_u64(m: &AttrMap, ty: impl Into<u16>) -> Result<Option<u64>, NlError> {
    Ok(fixed::<8>(m, ty)?.map(u64::from_ne_bytes))
}

fn opt_addr(m: &AttrMap, ty: impl Into<u16>) -> Result<Option<Ipv4Addr>, NlError> {
    Ok(fixed::<4>(m, ty)?.map(Ipv4Addr::from))
}

fn missing(ty: Attr) -> NlError {
    NlError::Protocol(format!("reply lacks attribute {ty:?} ({})", ty.number()))
}

fn req<T>(v: Option<T>, ty: Attr) -> Result<T, NlError> {
    v.ok_or_else(|| missing(ty))
}

fn u64_or0(m: &AttrMap, ty: impl Into<u16>) -> Result<u64, NlError> {
    Ok(opt_u64(m, ty)?.unwrap_or(0))
}

fn u32_or0(m: &AttrMap, ty: impl Into<u16>) -> Result<u32, NlError> {
    Ok(opt_u32(m, ty)?.unwrap_or(0))
}

fn string(m: &AttrMap, ty: Attr) -> Result<Option<String>, NlError> {
    Ok(m.get(&ty.number()).map(|v| {
        let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
        String::from_utf8_lossy(&v[..end]).into_owned()
    }))
}

fn protocol(m: &AttrMap, ty: Attr) -> Result<Protocol, NlError> {
    let n = req(opt_u8(m, ty)?, ty)?;
    Protocol::from_number(n).ok_or_else(|| NlError::Protocol(format!("unknown protocol {n}")))
}

/// Decodes the `STAT_*` counters (absent ones are 0).
pub fn decode_stats(m: &AttrMap) -> Result<Stats, NlError> {
    Ok(Stats {
        conns: u64_or0(m, Attr::StatConns)?,
        inpkts: u64_or0(m, Attr::StatInpkts)?,
        outpkts: u64_or0(m, Attr::StatOutpkts)?,
        inbytes: u64_or0(m, Attr::StatInbytes)?,
        outbytes: u64_or0(m, Attr::StatOutbytes)?,
    })
}

/// Decodes the `DROP_*` counters (absent ones are 0).
pub fn decode_drops(m: &AttrMap) -> Result<Drops, NlError> {
    let mut drops = Drops::default();
    for r in DropReason::ALL {
        drops = drops.with(r, u64_or0(m, r.attr())?);
    }
    Ok(drops)
}

/// Decodes a service key (`SVC_PROTOCOL`, `SVC_ADDR`, `SVC_PORT`).
pub fn decode_service_key(m: &AttrMap) -> Result<ServiceKey, NlError> {
    Ok(ServiceKey {
        protocol: protocol(m, Attr::SvcProtocol)?,
        addr: req(opt_addr(m, Attr::SvcAddr)?, Attr::SvcAddr)?,
        port: req(opt_u16(m, Attr::SvcPort)?, Attr::SvcPort)?,
    })
}

/// Decodes one `GET_SERVICE` reply (real servers are fetched separately).
pub fn decode_service(m: &AttrMap) -> Result<ServiceView, NlError> {
    Ok(ServiceView {
        key: decode_service_key(m)?,
        scheduler: req(string(m, Attr::SvcSched)?, Attr::SvcSched)?,
        flags: u32_or0(m, Attr::SvcFlags)?,
        stats: decode_stats(m)?,
        drops: decode_drops(m)?,
        rates: None,
        dests: Vec::new(),
    })
}

/// Decodes one `GET_DEST` reply.
pub fn decode_dest(m: &AttrMap) -> Result<DestView, NlError> {
    Ok(DestView {
        addr: req(opt_addr(m, Attr::DestAddr)?, Attr::DestAddr)?,
        port: req(opt_u16(m, Attr::DestPort)?, Attr::DestPort)?,
        weight: u32_or0(m, Attr::DestWeight)?,
        active: u32_or0(m, Attr::DestActive)?,
        inactive: u32_or0(m, Attr::DestInactive)?,
        stats: decode_stats(m)?,
        rates: None,
    })
}

/// Decodes one `GET_CONN` reply.
pub fn decode_conn(m: &AttrMap) -> Result<ConnView, NlError> {
    let addr = |ty| -> Result<Ipv4Addr, NlError> { req(opt_addr(m, ty)?, ty) };
    let port = |ty| -> Result<u16, NlError> { req(opt_u16(m, ty)?, ty) };
    Ok(ConnView {
        protocol: protocol(m, Attr::ConnProtocol)?,
        caddr: addr(Attr::ConnCaddr)?,
        cport: port(Attr::ConnCport)?,
        vaddr: addr(Attr::ConnVaddr)?,
        vport: port(Attr::ConnVport)?,
        daddr: addr(Attr::ConnDaddr)?,
        dport: port(Attr::ConnDport)?,
        state: opt_u8(m, Attr::ConnState)?.unwrap_or(0),
        expires: u32_or0(m, Attr::ConnExpires)?,
    })
}

/// Decodes the `GET_STATS` reply.
pub fn decode_global(m: &AttrMap, version: u8) -> Result<GlobalStats, NlError> {
    Ok(GlobalStats {
        version,
        stats: decode_stats(m)?,
        drops: decode_drops(m)?,
        entries: u64_or0(m, Attr::StatEntries)?,
        conn_max: u64_or0(m, Attr::StatConnMax)?,
        known_client_passes: u64_or0(m, Attr::KnownClientPasses)?,
    })
}

/// Decodes the `GET_DEFENSE` reply.
pub fn decode_defense(m: &AttrMap) -> Result<DefenseInfo, NlError> {
    Ok(DefenseInfo {
        level: req(opt_u32(m, Attr::DefLevel)?, Attr::DefLevel)?,
        effective: req(opt_u32(m, Attr::DefEffective)?, Attr::DefEffective)?,
        available_pages: u64_or0(m, Attr::DefAvailable)?,
        amemthresh_pages: u64_or0(m, Attr::DefAmemthresh)?,
        drop_rate: u32_or0(m, Attr::DefDropRate)?,
        switches: u64_or0(m, Attr::DefSwitches)?,
        known_client_passes: opt_u64(m, Attr::KnownClientPasses)?,
        fill_watermarks: opt_u32(m, Attr::DefFillHigh)?.zip(opt_u32(m, Attr::DefFillLow)?),
    })
}

/// The service key attributes.
pub fn service_attrs(key: &ServiceKey) -> Vec<(Attr, AttrValue)> {
    vec![
        (Attr::SvcProtocol, AttrValue::U8(key.protocol.number())),
        (Attr::SvcAddr, AttrValue::Addr(key.addr)),
        (Attr::SvcPort, AttrValue::U16(key.port)),
    ]
}

/// The service key plus the real server's address and port.
pub fn dest_attrs(key: &ServiceKey, dest: &DestKey) -> Vec<(Attr, AttrValue)> {
    let mut v = service_attrs(key);
    v.push((Attr::DestAddr, AttrValue::Addr(dest.addr)));
    v.push((Attr::DestPort, AttrValue::U16(dest.port)));
    v
}

/// A generic netlink socket talking to the `IPVS_DEFENSE` family.
pub struct NlClient {
    sock: NlSocketHandle,
    family: u16,
    seq: u32,
}

fn io_err(e: impl std::fmt::Display) -> NlError {
    NlError::Io(e.to_string())
}

impl NlClient {
    /// Opens a generic netlink socket, asks for extended acks and resolves the family.
    pub fn connect() -> Result<Self, NlError> {
        let sock =
            NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty()).map_err(io_err)?;
        // Old kernels lack NETLINK_EXT_ACK: errors then come without a message.
        let _ = sock.enable_ext_ack(true);
        let mut client = NlClient {
            sock,
            family: 0,
            seq: 0,
        };
        client.family = client.resolve_family()?;
        Ok(client)
    }

    fn resolve_family(&mut self) -> Result<u16, NlError> {
        let replies = self
            .exchange(
                u16::from(GenlId::Ctrl),
                u8::from(CtrlCmd::Getfamily),
                CTRL_VERSION,
                NlmF::ACK,
                &[(
                    u16::from(CtrlAttr::FamilyName),
                    AttrValue::Str(proto::FAMILY_NAME.to_string()),
                )],
            )
            .map_err(|e| match e {
                NlError::Errno { errno, .. } if errno == libc::ENOENT => NlError::NotLoaded,
                e => e,
            })?;
        for (m, _) in &replies {
            if let Some(id) = opt_u16(m, u16::from(CtrlAttr::FamilyId))? {
                return Ok(id);
            }
        }
        Err(NlError::NotLoaded)
    }

    /// Sends one request and reads every reply up to the ACK or `NLMSG_DONE`.
    fn exchange<A: Copy + Into<u16>>(
        &mut self,
        nl_type: u16,
        command: u8,
        version: u8,
        flags: NlmF,
        attrs: &[(A, AttrValue)],
    ) -> Result<Vec<(AttrMap, u8)>, NlError> {
        for _ in 0..DUMP_RETRIES {
            self.seq = self.seq.wrapping_add(1);
            let seq = self.seq;
            let msg = build_request(
                nl_type,
                seq,
                self.sock.pid(),
                command,
                version,
                flags,
                attrs,
            )?;
            self.sock.send(&msg).map_err(io_err)?;
            let mut replies = Vec::new();
            let mut interrupted = false;
            'recv: loop {
                let (iter, _) = self.sock.recv::<u16, GenlMsg>().map_err(io_err)?;
                for m in iter {
                    let m = m.map_err(|e| NlError::Protocol(e.to_string()))?;
                    if *m.nl_seq() == seq && m.nl_flags().contains(NlmF::DUMP_INTR) {
                        interrupted = true;
                    }
                    match handle_message(&m, seq)? {
                        Step::Data(map, v) => replies.push((map, v)),
                        Step::Done => break 'recv,
                        Step::Skip => {}
                    }
                }
            }
            if !interrupted {
                return Ok(replies);
            }
        }
        Err(NlError::Protocol(
            "the dump was interrupted by concurrent changes too many times".into(),
        ))
    }

    fn do_request(
        &mut self,
        command: Cmd,
        attrs: &[(Attr, AttrValue)],
    ) -> Result<Vec<(AttrMap, u8)>, NlError> {
        let attrs: Vec<(u16, AttrValue)> =
            attrs.iter().map(|(a, v)| (a.number(), v.clone())).collect();
        self.exchange(
            self.family,
            command.number(),
            proto::VERSION,
            NlmF::ACK,
            &attrs,
        )
    }

    fn dump(&mut self, command: Cmd, attrs: &[(Attr, AttrValue)]) -> Result<Vec<AttrMap>, NlError> {
        let attrs: Vec<(u16, AttrValue)> =
            attrs.iter().map(|(a, v)| (a.number(), v.clone())).collect();
        Ok(self
            .exchange(
                self.family,
                command.number(),
                proto::VERSION,
                NlmF::DUMP,
                &attrs,
            )?
            .into_iter()
            .map(|(m, _)| m)
            .collect())
    }

    fn one(&mut self, command: Cmd, attrs: &[(Attr, AttrValue)]) -> Result<(AttrMap, u8), NlError> {
        self.do_request(command, attrs)?
            .into_iter()
            .next()
            .ok_or_else(|| NlError::Protocol(format!("no reply to command {command:?}")))
    }
}

impl Client for NlClient {
    fn services(&mut self) -> Result<Vec<ServiceView>, NlError> {
        self.dump(Cmd::GetService, &[])?
            .iter()
            .map(decode_service)
            .collect()
    }

    fn service(&mut self, key: &ServiceKey) -> Result<ServiceView, NlError> {
        decode_service(&self.one(Cmd::GetService, &service_attrs(key))?.0)
    }

    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestView>, NlError> {
        self.dump(Cmd::GetDest, &service_attrs(key))?
            .iter()
            .map(decode_dest)
            .collect()
    }

    fn connections(&mut self) -> Result<Vec<ConnView>, NlError> {
        self.dump(Cmd::GetConn, &[])?
            .iter()
            .map(decode_conn)
            .collect()
    }

    fn global_stats(&mut self) -> Result<GlobalStats, NlError> {
        let (m, v) = self.one(Cmd::GetStats, &[])?;
        decode_global(&m, v)
    }

    fn defense(&mut self) -> Result<DefenseInfo, NlError> {
        decode_defense(&self.one(Cmd::GetDefense, &[])?.0)
    }

    fn add_service(&mut self, key: &ServiceKey, scheduler: &str) -> Result<(), NlError> {
        let mut a = service_attrs(key);
        a.push((Attr::SvcSched, AttrValue::Str(scheduler.to_string())));
        self.do_request(Cmd::NewService, &a).map(drop)
    }

    fn edit_service(&mut self, key: &ServiceKey, scheduler: &str) -> Result<(), NlError> {
        let mut a = service_attrs(key);
        a.push((Attr::SvcSched, AttrValue::Str(scheduler.to_string())));
        self.do_request(Cmd::SetService, &a).map(drop)
    }

    fn del_service(&mut self, key: &ServiceKey) -> Result<(), NlError> {
        self.do_request(Cmd::DelService, &service_attrs(key))
            .map(drop)
    }

    fn add_dest(&mut self, key: &ServiceKey, dest: &DestKey, weight: u32) -> Result<(), NlError> {
        let mut a = dest_attrs(key, dest);
        a.push((Attr::DestWeight, AttrValue::U32(weight)));
        self.do_request(Cmd::NewDest, &a).map(drop)
    }

    fn edit_dest(&mut self, key: &ServiceKey, dest: &DestKey, weight: u32) -> Result<(), NlError> {
        let mut a = dest_attrs(key, dest);
        a.push((Attr::DestWeight, AttrValue::U32(weight)));
        self.do_request(Cmd::SetDest, &a).map(drop)
    }

    fn del_dest(&mut self, key: &ServiceKey, dest: &DestKey) -> Result<(), NlError> {
        self.do_request(Cmd::DelDest, &dest_attrs(key, dest))
            .map(drop)
    }

    fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), NlError> {
        let a = key.map(service_attrs).unwrap_or_default();
        self.do_request(Cmd::Zero, &a).map(drop)
    }

    fn flush(&mut self) -> Result<(), NlError> {
        self.do_request(Cmd::Flush, &[]).map(drop)
    }

    fn set_defense(&mut self, level: u32) -> Result<(), NlError> {
        self.do_request(Cmd::SetDefense, &[(Attr::DefLevel, AttrValue::U32(level))])
            .map(drop)
    }
}
