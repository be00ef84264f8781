// SPDX-License-Identifier: GPL-2.0

//! The control plane: the `IPVS_DEFENSE` generic netlink family (protocol in
//! `logic/proto.rs`).
//!
//! The kernel validates every request against [`POLICY`] (types, lengths, port ≥ 1, level ≤
//! 2, unknown attributes refused) and checks `CAP_NET_ADMIN` for the commands flagged
//! `admin` before a handler runs. Handlers check the rest and answer `EINVAL`, `EEXIST` or
//! `ENOENT` with an extended-ack message saying what was wrong.

use super::table::SHARDS;
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
    entry::Protocol,
    proto::{attr, cmd, ipproto},
    sched::SchedKind,
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
const fn p(ty: AttrType) -> AttrPolicy {
    AttrPolicy::new(ty)
}
const REPLY_ONLY: AttrPolicy = AttrPolicy::new(AttrType::Reject);

/// The attribute policy, attribute `i + 1` at index `i`.
const POLICY: [AttrPolicy; attr::MAX as usize] = [
    /* SVC_PROTOCOL */ p(AttrType::U8),
    /* SVC_ADDR */ p(AttrType::U32),
    /* SVC_PORT */ p(AttrType::U16),
    /* SVC_SCHED */ p(AttrType::NulString { max_len: 15 }),
    /* SVC_FLAGS */ p(AttrType::U32),
    /* SVC_DESTS */ REPLY_ONLY,
    /* DEST_ADDR */ p(AttrType::U32),
    /* DEST_PORT */ p(AttrType::U16),
    /* DEST_WEIGHT */ p(AttrType::U32),
    /* DEST_ACTIVE .. KNOWN_CLIENT_PASSES: replies only, except DEF_LEVEL */
    REPLY_ONLY, // DEST_ACTIVE
    REPLY_ONLY, // DEST_INACTIVE
    REPLY_ONLY, // STAT_CONNS
    REPLY_ONLY, // STAT_INPKTS
    REPLY_ONLY, // STAT_OUTPKTS
    REPLY_ONLY, // STAT_INBYTES
    REPLY_ONLY, // STAT_OUTBYTES
    REPLY_ONLY, // DROP_SYN_RATE
    REPLY_ONLY, // DROP_EVICTIONS
    REPLY_ONLY, // DROP_ROUTE
    REPLY_ONLY, // DROP_ZOMBIE
    REPLY_ONLY, // DROP_TABLE_FULL
    REPLY_ONLY, // DROP_MALFORMED
    REPLY_ONLY, // DROP_BLIND_ACK
    REPLY_ONLY, // CONN_PROTOCOL
    REPLY_ONLY, // CONN_CADDR
    REPLY_ONLY, // CONN_CPORT
    REPLY_ONLY, // CONN_VADDR
    REPLY_ONLY, // CONN_VPORT
    REPLY_ONLY, // CONN_DADDR
    REPLY_ONLY, // CONN_DPORT
    REPLY_ONLY, // CONN_STATE
    REPLY_ONLY, // CONN_EXPIRES
    /* DEF_LEVEL */ p(AttrType::U32),
    REPLY_ONLY, // DEF_EFFECTIVE
    REPLY_ONLY, // DEF_AVAILABLE
    REPLY_ONLY, // DEF_AMEMTHRESH
    REPLY_ONLY, // DEF_DROP_RATE
    REPLY_ONLY, // DEF_SWITCHES
    REPLY_ONLY, // STAT_ENTRIES
    REPLY_ONLY, // STAT_CONN_MAX
    REPLY_ONLY, // KNOWN_CLIENT_PASSES
    REPLY_ONLY, // PAD
    REPLY_ONLY, // DEF_FILL_HIGH
    REPLY_ONLY, // DEF_FILL_LOW
];

const fn op(cmd: u8, doit: bool, dump: bool, admin: bool) -> Op {
    Op {
        cmd,
        doit,
        dump,
        admin,
    }
}

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
        a.u8(attr::SVC_PROTOCOL),
        a.be32_bytes(attr::SVC_ADDR),
        a.u16(attr::SVC_PORT),
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
    let (Some(addr), Some(port)) = (a.be32_bytes(attr::DEST_ADDR), a.u16(attr::DEST_PORT)) else {
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
    match req.attrs().string(attr::SVC_SCHED) {
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
    match req.attrs().u32(attr::SVC_FLAGS) {
        Some(0) => Ok(Some(0)),
        Some(_) => Err(invalid(req, c_str!("unknown service flags"))),
        None => Ok(None),
    }
}

fn weight(req: &mut Request<'_>) -> Result<Option<u32>> {
    match req.attrs().u32(attr::DEST_WEIGHT) {
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
    msg.put_u8(attr::SVC_PROTOCOL, key.proto)?;
    msg.put_be32_bytes(attr::SVC_ADDR, key.addr)?;
    msg.put_u16(attr::SVC_PORT, key.port)
}

fn put_service(msg: &mut Msg<'_>, svc: &Service) -> Result {
    put_service_key(msg, &svc.key)?;
    msg.put_string(attr::SVC_SCHED, sched_name(svc.sched_kind))?;
    msg.put_u32(attr::SVC_FLAGS, svc.flags)?;
    msg.put_u32(attr::SVC_DESTS, svc.dests.len() as u32)?;
    svc.stats.put(msg)
}

fn put_dest(msg: &mut Msg<'_>, svc: &Service, d: &Dest) -> Result {
    put_service_key(msg, &svc.key)?;
    msg.put_be32_bytes(attr::DEST_ADDR, d.key.addr)?;
    msg.put_u16(attr::DEST_PORT, d.key.port)?;
    msg.put_u32(attr::DEST_WEIGHT, d.weight)?;
    msg.put_u32(attr::DEST_ACTIVE, d.counters.active.load(Ordering::Relaxed))?;
    msg.put_u32(
        attr::DEST_INACTIVE,
        d.counters.inactive.load(Ordering::Relaxed),
    )?;
    d.counters.stats.put(msg)
}

fn sched_name(k: SchedKind) -> &'static CStr {
    match k {
        SchedKind::Rr => c_str!("rr"),
        SchedKind::Wrr => c_str!("wrr"),
        SchedKind::Lc => c_str!("lc"),
        SchedKind::Wlc => c_str!("wlc"),
        SchedKind::Mh => c_str!("mh"),
    }
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
            let stats = Arc::new(Stats::default(), GFP_KERNEL)?;
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
                    Arc::new(DestCounters::default(), GFP_KERNEL)?
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
        req.reply(cmd::GET_SERVICE, |m| put_service(m, &svc))
    }

    fn zero(&self, req: &mut Request<'_>) -> Result {
        if req.attrs().bytes(attr::SVC_PROTOCOL).is_none() {
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
        req.reply(cmd::GET_STATS, |m| {
            global.put(m)?;
            m.put_u64(attr::STAT_ENTRIES, entries.into())?;
            m.put_u64(attr::STAT_CONN_MAX, self.tunables.conn_max.get() as u64)?;
            m.put_u64(attr::KNOWN_CLIENT_PASSES, passes)
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
        req.reply(cmd::GET_DEFENSE, |m| {
            m.put_u32(attr::DEF_LEVEL, level)?;
            m.put_u32(attr::DEF_EFFECTIVE, level)?;
            m.put_u64(attr::DEF_AVAILABLE, d.available())?;
            m.put_u64(attr::DEF_AMEMTHRESH, amemthresh)?;
            let rate = d.drop_rate().unwrap_or(0).min(u32::MAX.into()) as u32;
            m.put_u32(attr::DEF_DROP_RATE, rate)?;
            m.put_u64(attr::DEF_SWITCHES, d.switches())?;
            m.put_u32(attr::DEF_FILL_HIGH, fill_high)?;
            m.put_u32(attr::DEF_FILL_LOW, fill_low)?;
            m.put_u64(attr::KNOWN_CLIENT_PASSES, d.known_passes())
        })
    }

    fn set_defense(&self, req: &mut Request<'_>) -> Result {
        match req.attrs().u32(attr::DEF_LEVEL) {
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
            if !dump.message(cmd::GET_SERVICE, |m| put_service(m, svc))? {
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
        while s < SHARDS {
            let mut err = Ok(());
            let stopped = self.table.walk(s, from, |e| {
                let expires = e.timer.expires().unwrap_or(now).saturating_sub(now) / jiffies::HZ;
                match dump.message(cmd::GET_CONN, |m| {
                    m.put_u8(attr::CONN_PROTOCOL, e.protocol.number())?;
                    m.put_be32_bytes(attr::CONN_CADDR, e.client_addr.to_be_bytes())?;
                    m.put_u16(attr::CONN_CPORT, e.client_port)?;
                    m.put_be32_bytes(attr::CONN_VADDR, e.vaddr.to_be_bytes())?;
                    m.put_u16(attr::CONN_VPORT, e.vport)?;
                    m.put_be32_bytes(attr::CONN_DADDR, e.rs_addr.to_be_bytes())?;
                    m.put_u16(attr::CONN_DPORT, e.rs_port)?;
                    let state = if e.protocol == Protocol::Tcp {
                        e.state as u8
                    } else {
                        0
                    };
                    m.put_u8(attr::CONN_STATE, state)?;
                    m.put_u32(attr::CONN_EXPIRES, expires.min(u32::MAX.into()) as u32)
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
            if !dump.message(cmd::GET_DEST, |m| put_dest(m, svc, d))? {
                break;
            }
            i += 1;
        }
        dump.set_cursor(0, i as i64);
        Ok(())
    }
}

impl Family for Control {
    const NAME: &'static CStr = c_str!("IPVS_DEFENSE");
    const VERSION: u8 = crate::logic::proto::VERSION;
    const POLICY: &'static [AttrPolicy] = &POLICY;
    const PAD_ATTR: u16 = attr::PAD;
    const OPS: &'static [Op] = &[
        op(cmd::NEW_SERVICE, true, false, true),
        op(cmd::SET_SERVICE, true, false, true),
        op(cmd::DEL_SERVICE, true, false, true),
        op(cmd::GET_SERVICE, true, true, false),
        op(cmd::NEW_DEST, true, false, true),
        op(cmd::SET_DEST, true, false, true),
        op(cmd::DEL_DEST, true, false, true),
        op(cmd::GET_DEST, false, true, false),
        op(cmd::GET_CONN, false, true, true),
        op(cmd::GET_STATS, true, false, false),
        op(cmd::ZERO, true, false, true),
        op(cmd::FLUSH, true, false, true),
        op(cmd::GET_DEFENSE, true, false, false),
        op(cmd::SET_DEFENSE, true, false, true),
    ];

    fn doit(&self, cmd: u8, req: &mut Request<'_>) -> Result {
        match cmd {
            cmd::NEW_SERVICE => self.new_service(req),
            cmd::SET_SERVICE => self.set_service(req),
            cmd::DEL_SERVICE => self.del_service(req),
            cmd::GET_SERVICE => self.get_service(req),
            cmd::NEW_DEST => self.put_dest_cmd(req, true),
            cmd::SET_DEST => self.put_dest_cmd(req, false),
            cmd::DEL_DEST => self.del_dest(req),
            cmd::GET_STATS => self.get_stats(req),
            cmd::ZERO => self.zero(req),
            cmd::FLUSH => {
                self.store.update(|_| Ok(Change::Flush))?;
                self.table.flush();
                Ok(())
            }
            cmd::GET_DEFENSE => self.get_defense(req),
            cmd::SET_DEFENSE => self.set_defense(req),
            _ => Err(EINVAL),
        }
    }

    fn dumpit(&self, cmd: u8, dump: &mut Dump<'_>) -> Result {
        match cmd {
            cmd::GET_SERVICE => self.dump_services(dump),
            cmd::GET_DEST => self.dump_dests(dump),
            cmd::GET_CONN => self.dump_conns(dump),
            _ => Err(EINVAL),
        }
    }
}
