// SPDX-License-Identifier: GPL-2.0

//! The control plane: the `IPVS_DEFENSE` generic netlink family (protocol in
//! `logic/proto.rs`).
//!
//! The kernel validates every request against [`POLICY`] (types, lengths, port ≥ 1, level ≤
//! 2, unknown attributes refused) and checks `CAP_NET_ADMIN` for the commands flagged
//! `admin` before a handler runs. Handlers check the rest and answer `EINVAL`, `EEXIST` or
//! `ENOENT` with an extended-ack message saying what was wrong.

use super::sysctls::kernel_name;
use super::{
    config::{Change, Dest, DestCounters, DestKey, Service, ServiceKey, Store},
    config::{MAX_DESTS, MAX_SERVICES, MAX_WEIGHT},
    defense::Controller,
    stats::Stats,
    table::Table,
    tunables::Tunables,
};
use crate::logic::{
    defense::Level,
    entry::{EntryFlags, Protocol},
    proto::{ipproto, Attr, Cmd, Payload, CONN_STATE_SYN_PROXY, FAMILY_NAME_NUL},
    sched::SchedKind,
    tcp_state::TcpState,
};
use core::sync::atomic::Ordering;
use kernel::{
    c_str, jiffies,
    net::genetlink::{AttrPolicy, AttrType, Attrs, Dump, Family, Msg, Op, Request},
    prelude::*,
    str::CStr,
    sync::{rcu, Arc},
};

/// The family's handler: the configuration store, the global counters, the table, the
/// controller and the tunables.
pub(crate) struct Control {
    pub(crate) store: Arc<Store>,
    pub(crate) global: Arc<Stats>,
    pub(crate) table: Arc<Table>,
    pub(crate) defense: Arc<Controller>,
    pub(crate) tunables: Arc<Tunables>,
}

// Ranges are checked by the handlers rather than by the policy, so that a value out of
// range gets `EINVAL` with a message naming the field (the policy would answer `ERANGE`).
const fn policy(a: Attr) -> AttrPolicy {
    AttrPolicy::new(match a.request_payload() {
        Some(Payload::U8) => AttrType::U8,
        Some(Payload::U16) => AttrType::U16,
        Some(Payload::U32) => AttrType::U32,
        Some(Payload::NulString { max_len }) => AttrType::NulString { max_len },
        None => AttrType::Reject,
    })
}

/// The attribute policy, attribute `i + 1` at index `i`, from the protocol's attributes.
const POLICY: [AttrPolicy; Attr::ALL.len()] = {
    let mut p = [AttrPolicy::new(AttrType::Reject); Attr::ALL.len()];
    let mut i = 0;
    while i < Attr::ALL.len() {
        p[i] = policy(Attr::ALL[i]);
        i += 1;
    }
    p
};

/// The operations, one per command of the protocol.
const OPS: [Op; Cmd::ALL.len()] = {
    let mut ops = [Op {
        cmd: 0,
        doit: false,
        dump: false,
        admin: false,
    }; Cmd::ALL.len()];
    let mut i = 0;
    while i < Cmd::ALL.len() {
        let c = Cmd::ALL[i];
        let k = c.kind();
        ops[i] = Op {
            cmd: c.number(),
            doit: k.doit,
            dump: k.dump,
            admin: k.admin,
        };
        i += 1;
    }
    ops
};

/// Bad request: `EINVAL` with a message.
fn invalid(req: &mut Request<'_>, msg: &'static CStr) -> Error {
    req.set_error_msg(msg);
    EINVAL
}

fn service_key(req: &mut Request<'_>) -> Result<ServiceKey> {
    parse_service_key(req.attrs()).map_err(|msg| invalid(req, msg))
}

/// The service key of a request, or what is wrong with it.
fn parse_service_key(a: &Attrs<'_>) -> core::result::Result<ServiceKey, &'static CStr> {
    let (Some(proto), Some(addr), Some(port)) = (
        a.u8(Attr::SvcProtocol),
        a.be32_bytes(Attr::SvcAddr),
        a.u16(Attr::SvcPort),
    ) else {
        return Err(c_str!(
            "a service needs SVC_PROTOCOL, SVC_ADDR and SVC_PORT"
        ));
    };
    if proto != ipproto::TCP && proto != ipproto::UDP {
        return Err(c_str!("protocol must be TCP (6) or UDP (17)"));
    }
    if addr == [0; 4] {
        return Err(c_str!("the virtual address must not be 0.0.0.0"));
    }
    if port == 0 {
        return Err(c_str!("the virtual port must be 1..65535"));
    }
    Ok(ServiceKey { proto, addr, port })
}

fn dest_key(req: &mut Request<'_>) -> Result<DestKey> {
    let a = req.attrs();
    let (Some(addr), Some(port)) = (a.be32_bytes(Attr::DestAddr), a.u16(Attr::DestPort)) else {
        return Err(invalid(
            req,
            c_str!("a real server needs DEST_ADDR and DEST_PORT"),
        ));
    };
    if addr == [0; 4] {
        return Err(invalid(
            req,
            c_str!("the real server address must not be 0.0.0.0"),
        ));
    }
    if port == 0 {
        return Err(invalid(
            req,
            c_str!("the real server port must be 1..65535"),
        ));
    }
    Ok(DestKey { addr, port })
}

fn scheduler(req: &mut Request<'_>) -> Result<Option<SchedKind>> {
    match req.attrs().string(Attr::SvcSched) {
        None => Ok(None),
        Some(name) => match SchedKind::from_name(name) {
            Some(k) => Ok(Some(k)),
            None => Err(invalid(
                req,
                c_str!("unknown scheduler (known: rr, wrr, lc, wlc, mh)"),
            )),
        },
    }
}

fn flags(req: &mut Request<'_>) -> Result<Option<u32>> {
    match req.attrs().u32(Attr::SvcFlags) {
        Some(0) => Ok(Some(0)),
        Some(_) => Err(invalid(req, c_str!("unknown service flags"))),
        None => Ok(None),
    }
}

fn weight(req: &mut Request<'_>) -> Result<Option<u32>> {
    match req.attrs().u32(Attr::DestWeight) {
        Some(w) if w > MAX_WEIGHT => Err(invalid(req, c_str!("weight out of range (0..65535)"))),
        w => Ok(w),
    }
}

fn no_service(req: &mut Request<'_>) -> Error {
    req.set_error_msg(c_str!("no such service"));
    ENOENT
}

/// A copy of a service's real servers, optionally without one and with one added or
/// re-weighted.
fn copy_dests(svc: &Service, skip: Option<DestKey>) -> Result<KVec<Dest>> {
    let mut v = KVec::with_capacity(svc.dests.len() + 1, GFP_KERNEL)?;
    for d in svc.dests.iter().filter(|d| Some(d.key) != skip) {
        v.push(
            Dest {
                key: d.key,
                weight: d.weight,
                counters: Arc::clone(&d.counters),
            },
            GFP_KERNEL,
        )?;
    }
    Ok(v)
}

fn put_service_key(msg: &mut Msg<'_>, key: &ServiceKey) -> Result {
    msg.put_u8(Attr::SvcProtocol, key.proto)?;
    msg.put_be32_bytes(Attr::SvcAddr, key.addr)?;
    msg.put_u16(Attr::SvcPort, key.port)
}

fn put_service(msg: &mut Msg<'_>, svc: &Service) -> Result {
    put_service_key(msg, &svc.key)?;
    msg.put_string(Attr::SvcSched, kernel_name(svc.sched_kind.c_name()))?;
    msg.put_u32(Attr::SvcFlags, svc.flags)?;
    msg.put_u32(Attr::SvcDests, svc.dests.len() as u32)?;
    svc.stats.put(msg)
}

fn put_dest(msg: &mut Msg<'_>, svc: &Service, d: &Dest) -> Result {
    put_service_key(msg, &svc.key)?;
    msg.put_be32_bytes(Attr::DestAddr, d.key.addr)?;
    msg.put_u16(Attr::DestPort, d.key.port)?;
    msg.put_u32(Attr::DestWeight, d.weight)?;
    msg.put_u32(Attr::DestActive, d.counters.active.load(Ordering::Relaxed))?;
    msg.put_u32(
        Attr::DestInactive,
        d.counters.inactive.load(Ordering::Relaxed),
    )?;
    d.counters.stats.put(msg)
}

impl Control {
    fn new_service(&self, req: &mut Request<'_>) -> Result {
        let key = service_key(req)?;
        let kind = match scheduler(req)? {
            Some(k) => k,
            None => return Err(invalid(req, c_str!("a new service needs SVC_SCHED"))),
        };
        let flags = flags(req)?.unwrap_or(0);
        self.store.update(|cfg| {
            if cfg.find(&key).is_some() {
                req.set_error_msg(c_str!("the service already exists"));
                return Err(EEXIST);
            }
            if cfg.services.len() >= MAX_SERVICES {
                req.set_error_msg(c_str!("too many services (1024)"));
                return Err(ENOSPC);
            }
            let stats = Arc::new(Stats::new()?, GFP_KERNEL)?;
            let svc = Service::build(key, kind, flags, KVec::new(), stats)?;
            Ok(Change::Put(None, svc))
        })
    }

    fn set_service(&self, req: &mut Request<'_>) -> Result {
        let key = service_key(req)?;
        let kind = scheduler(req)?;
        let flags = flags(req)?;
        self.store.update(|cfg| {
            let Some(old) = cfg.find(&key) else {
                return Err(no_service(req));
            };
            let svc = Service::build(
                key,
                kind.unwrap_or(old.sched_kind),
                flags.unwrap_or(old.flags),
                copy_dests(old, None)?,
                Arc::clone(&old.stats),
            )?;
            Ok(Change::Put(Some(key), svc))
        })
    }

    fn del_service(&self, req: &mut Request<'_>) -> Result {
        let key = service_key(req)?;
        self.store.update(|cfg| match cfg.find(&key) {
            Some(_) => Ok(Change::Remove(key)),
            None => Err(no_service(req)),
        })
    }

    /// Adds (`new`), re-weights (`!new`) a real server.
    fn put_dest_cmd(&self, req: &mut Request<'_>, new: bool) -> Result {
        let key = service_key(req)?;
        let dkey = dest_key(req)?;
        let w = weight(req)?;
        if !new && w.is_none() {
            return Err(invalid(
                req,
                c_str!("editing a real server needs DEST_WEIGHT"),
            ));
        }
        self.store.update(|cfg| {
            let Some(old) = cfg.find(&key) else {
                return Err(no_service(req));
            };
            let existing = old.dest_index(&dkey).and_then(|i| old.dests.get(i));
            let counters = match (existing, new) {
                (Some(_), true) => {
                    req.set_error_msg(c_str!("the real server already exists in this service"));
                    return Err(EEXIST);
                }
                (None, false) => {
                    req.set_error_msg(c_str!("no such real server in this service"));
                    return Err(ENOENT);
                }
                (Some(d), false) => Arc::clone(&d.counters),
                (None, true) => {
                    if old.dests.len() >= MAX_DESTS {
                        req.set_error_msg(c_str!("too many real servers (1024)"));
                        return Err(ENOSPC);
                    }
                    Arc::new(DestCounters::new(Arc::clone(&old.stats))?, GFP_KERNEL)?
                }
            };
            let mut dests = copy_dests(old, Some(dkey))?;
            dests.push(
                Dest {
                    key: dkey,
                    weight: w.unwrap_or(1),
                    counters,
                },
                GFP_KERNEL,
            )?;
            let svc = Service::build(
                key,
                old.sched_kind,
                old.flags,
                dests,
                Arc::clone(&old.stats),
            )?;
            Ok(Change::Put(Some(key), svc))
        })
    }

    fn del_dest(&self, req: &mut Request<'_>) -> Result {
        let key = service_key(req)?;
        let dkey = dest_key(req)?;
        self.store.update(|cfg| {
            let Some(old) = cfg.find(&key) else {
                return Err(no_service(req));
            };
            if old.dest_index(&dkey).is_none() {
                req.set_error_msg(c_str!("no such real server in this service"));
                return Err(ENOENT);
            }
            let svc = Service::build(
                key,
                old.sched_kind,
                old.flags,
                copy_dests(old, Some(dkey))?,
                Arc::clone(&old.stats),
            )?;
            Ok(Change::Put(Some(key), svc))
        })
    }

    fn get_service(&self, req: &mut Request<'_>) -> Result {
        let key = service_key(req)?;
        let guard = rcu::read_lock();
        let cfg = self.store.read(&guard);
        let Some(svc) = cfg.find(&key) else {
            return Err(no_service(req));
        };
        let svc = Arc::clone(svc);
        drop(guard);
        req.reply(Cmd::GetService, |m| put_service(m, &svc))
    }

    fn zero(&self, req: &mut Request<'_>) -> Result {
        if req.attrs().bytes(Attr::SvcProtocol).is_none() {
            let guard = rcu::read_lock();
            self.global.zero();
            for s in self.store.read(&guard).services.iter() {
                s.stats.zero();
                for d in s.dests.iter() {
                    d.counters.stats.zero();
                }
            }
            return Ok(());
        }
        let key = service_key(req)?;
        let guard = rcu::read_lock();
        let Some(svc) = self.store.read(&guard).find(&key) else {
            drop(guard);
            return Err(no_service(req));
        };
        svc.stats.zero();
        for d in svc.dests.iter() {
            d.counters.stats.zero();
        }
        Ok(())
    }

    fn get_stats(&self, req: &mut Request<'_>) -> Result {
        let global = Arc::clone(&self.global);
        let entries = self.table.len();
        let passes = self.defense.known_passes();
        req.reply(Cmd::GetStats, |m| {
            global.put(m)?;
            m.put_u64(Attr::StatEntries, entries.into())?;
            m.put_u64(Attr::StatConnMax, self.tunables.conn_max.get() as u64)?;
            m.put_u64(Attr::KnownClientPasses, passes)
        })
    }

    fn get_defense(&self, req: &mut Request<'_>) -> Result {
        // `defense_level` holds the level in force (the controller writes its automatic
        // switches back), so the operator's and the effective level are the same number.
        let level = self.tunables.defense_level.get() as u32;
        let d = Arc::clone(&self.defense);
        let amemthresh = self.tunables.amemthresh.get() as u64;
        let fill_high = self.tunables.table_fill_high.get() as u32;
        let fill_low = self.tunables.table_fill_low.get() as u32;
        req.reply(Cmd::GetDefense, |m| {
            m.put_u32(Attr::DefLevel, level)?;
            m.put_u32(Attr::DefEffective, level)?;
            m.put_u64(Attr::DefAvailable, d.available())?;
            m.put_u64(Attr::DefAmemthresh, amemthresh)?;
            let rate = d.drop_rate().unwrap_or(0).min(u32::MAX.into()) as u32;
            m.put_u32(Attr::DefDropRate, rate)?;
            m.put_u64(Attr::DefSwitches, d.switches())?;
            m.put_u32(Attr::DefFillHigh, fill_high)?;
            m.put_u32(Attr::DefFillLow, fill_low)?;
            m.put_u64(Attr::KnownClientPasses, d.known_passes())
        })
    }

    fn set_defense(&self, req: &mut Request<'_>) -> Result {
        match req.attrs().u32(Attr::DefLevel) {
            Some(l @ 0..=2) => {
                if let Some(level) = Level::from_value(l.into()) {
                    self.defense.set_level(level);
                }
                Ok(())
            }
            Some(_) => Err(invalid(req, c_str!("defense level must be 0, 1 or 2"))),
            None => Err(invalid(req, c_str!("SET_DEFENSE needs DEF_LEVEL (0..2)"))),
        }
    }

    fn dump_services(&self, dump: &mut Dump<'_>) -> Result {
        let guard = rcu::read_lock();
        let cfg = self.store.read(&guard);
        dump.set_generation(cfg.generation);
        let mut i = dump.cursor(0) as usize;
        while let Some(svc) = cfg.services.get(i) {
            if !dump.message(Cmd::GetService, |m| put_service(m, svc))? {
                break;
            }
            i += 1;
        }
        dump.set_cursor(0, i as i64);
        Ok(())
    }

    /// The connection table, shard by shard (cursor 0: shard, cursor 1: slot). Each shard
    /// is read under its lock, so every entry is seen in a consistent state.
    fn dump_conns(&self, dump: &mut Dump<'_>) -> Result {
        let now = jiffies::now();
        let mut s = dump.cursor(0) as usize;
        let mut from = dump.cursor(1) as u32;
        while s < self.table.shard_count() {
            let mut err = Ok(());
            let stopped = self.table.walk(s, from, |e, expires| {
                let expires = expires.unwrap_or(now).saturating_sub(now) / jiffies::HZ;
                match dump.message(Cmd::GetConn, |m| {
                    m.put_u8(Attr::ConnProtocol, e.protocol.number())?;
                    m.put_be32_bytes(Attr::ConnCaddr, e.client_addr.to_be_bytes())?;
                    m.put_u16(Attr::ConnCport, e.client_port)?;
                    m.put_be32_bytes(Attr::ConnVaddr, e.vaddr.to_be_bytes())?;
                    m.put_u16(Attr::ConnVport, e.vport)?;
                    m.put_be32_bytes(Attr::ConnDaddr, e.rs_addr.to_be_bytes())?;
                    m.put_u16(Attr::ConnDport, e.rs_port)?;
                    let state = match e.protocol {
                        Protocol::Udp => 0,
                        _ if e.flags.has(EntryFlags::PROXIED) && e.state == TcpState::SynRecv => {
                            CONN_STATE_SYN_PROXY
                        }
                        Protocol::Tcp => e.state as u8,
                    };
                    m.put_u8(Attr::ConnState, state)?;
                    m.put_u32(Attr::ConnExpires, expires.min(u32::MAX.into()) as u32)
                }) {
                    Ok(true) => true,
                    Ok(false) => false,
                    Err(e) => {
                        err = Err(e);
                        false
                    }
                }
            });
            err?;
            match stopped {
                Some(slot) => {
                    dump.set_cursor(0, s as i64);
                    dump.set_cursor(1, slot.into());
                    return Ok(());
                }
                None => {
                    s += 1;
                    from = 0;
                }
            }
        }
        dump.set_cursor(0, s as i64);
        dump.set_cursor(1, 0);
        Ok(())
    }

    fn dump_dests(&self, dump: &mut Dump<'_>) -> Result {
        let key = match parse_service_key(dump.attrs()) {
            Ok(key) => key,
            Err(msg) => {
                dump.set_error_msg(msg);
                return Err(EINVAL);
            }
        };
        let guard = rcu::read_lock();
        let cfg = self.store.read(&guard);
        dump.set_generation(cfg.generation);
        let Some(svc) = cfg.find(&key) else {
            dump.set_error_msg(c_str!("no such service"));
            return Err(ENOENT);
        };
        let mut i = dump.cursor(0) as usize;
        while let Some(d) = svc.dests.get(i) {
            if !dump.message(Cmd::GetDest, |m| put_dest(m, svc, d))? {
                break;
            }
            i += 1;
        }
        dump.set_cursor(0, i as i64);
        Ok(())
    }
}

impl Family for Control {
    const NAME: &'static CStr = match CStr::from_bytes_with_nul(FAMILY_NAME_NUL) {
        Ok(name) => name,
        Err(_) => panic!("FAMILY_NAME_NUL is not a C string"),
    };
    const VERSION: u8 = crate::logic::proto::VERSION;
    const POLICY: &'static [AttrPolicy] = &POLICY;
    const PAD_ATTR: u16 = Attr::Pad.number();
    const OPS: &'static [Op] = &OPS;

    fn doit(&self, cmd: u8, req: &mut Request<'_>) -> Result {
        // The core calls this only for the commands of `OPS` that have `doit`.
        let Ok(cmd) = Cmd::try_from(cmd) else {
            return Err(EINVAL);
        };
        match cmd {
            Cmd::NewService => self.new_service(req),
            Cmd::SetService => self.set_service(req),
            Cmd::DelService => self.del_service(req),
            Cmd::GetService => self.get_service(req),
            Cmd::NewDest => self.put_dest_cmd(req, true),
            Cmd::SetDest => self.put_dest_cmd(req, false),
            Cmd::DelDest => self.del_dest(req),
            Cmd::GetStats => self.get_stats(req),
            Cmd::Zero => self.zero(req),
            Cmd::Flush => {
                self.store.update(|_| Ok(Change::Flush))?;
                self.table.flush();
                Ok(())
            }
            Cmd::GetDefense => self.get_defense(req),
            Cmd::SetDefense => self.set_defense(req),
            Cmd::GetDest | Cmd::GetConn => Err(EINVAL),
        }
    }

    fn dumpit(&self, cmd: u8, dump: &mut Dump<'_>) -> Result {
        // The core calls this only for the commands of `OPS` that have `dump`.
        let Ok(cmd) = Cmd::try_from(cmd) else {
            return Err(EINVAL);
        };
        match cmd {
            Cmd::GetService => self.dump_services(dump),
            Cmd::GetDest => self.dump_dests(dump),
            Cmd::GetConn => self.dump_conns(dump),
            Cmd::NewService
            | Cmd::SetService
            | Cmd::DelService
            | Cmd::NewDest
            | Cmd::SetDest
            | Cmd::DelDest
            | Cmd::GetStats
            | Cmd::Zero
            | Cmd::Flush
            | Cmd::GetDefense
            | Cmd::SetDefense => Err(EINVAL),
        }
    }
}
