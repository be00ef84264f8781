// SPDX-License-Identifier: GPL-2.0

//! The director's configuration: virtual services and their real servers.
//!
//! Read-mostly, by RCU: the data path reads the current [`Config`] snapshot under an RCU
//! read guard without taking any lock, on every CPU at once. The control plane (netlink, in
//! process context) builds a new snapshot from the current one, publishes it, and frees the
//! old one after a grace period ([`kernel::sync::rcu::RcuBox::update`], which also
//! serialises writers). Unchanged services are shared between snapshots (`Arc`), and so are
//! the counters, which survive every change.
//!
//! The scheduler state of a service (round-robin position, ...) is mutable and sits under a
//! per-service bh-safe spinlock taken only when a new connection is scheduled, as the
//! in-kernel IPVS does with `svc->sched_lock`; established flows never take it.

use super::stats::Stats;
use crate::logic::{
    proto::ipproto,
    sched::{self, mh, SchedKind, Scheduler},
    sort,
};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{
    net::route::RouteCache,
    new_spinlock_bh,
    prelude::*,
    sync::{
        rcu::{Guard, RcuBox},
        Arc, SpinLockBh,
    },
};

/// Services the director accepts at most.
pub(crate) const MAX_SERVICES: usize = 1024;
/// Real servers per service at most.
pub(crate) const MAX_DESTS: usize = 1024;
/// The highest accepted weight.
pub(crate) const MAX_WEIGHT: u32 = 65535;

/// What identifies a service: protocol, VIP (network order bytes), port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ServiceKey {
    pub(crate) proto: u8,
    pub(crate) addr: [u8; 4],
    pub(crate) port: u16,
}

/// What identifies a real server within a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DestKey {
    pub(crate) addr: [u8; 4],
    pub(crate) port: u16,
}

/// A real server's counters, kept across configuration changes, and its service's (so
/// that an entry reaches both through one reference).
pub(crate) struct DestCounters {
    pub(crate) active: AtomicU32,
    pub(crate) inactive: AtomicU32,
    pub(crate) stats: Stats,
    pub(crate) svc: Arc<Stats>,
}

impl DestCounters {
    /// Counters at zero, of a real server of the service counted in `svc`. Might sleep.
    pub(crate) fn new(svc: Arc<Stats>) -> Result<Self> {
        Ok(Self {
            active: AtomicU32::new(0),
            inactive: AtomicU32::new(0),
            stats: Stats::new()?,
            svc,
        })
    }
}

/// A real server, as one snapshot sees it.
pub(crate) struct Dest {
    pub(crate) key: DestKey,
    pub(crate) weight: u32,
    pub(crate) counters: Arc<DestCounters>,
}

impl sched::Dest for Dest {
    fn weight(&self) -> u32 {
        self.weight
    }
    fn active_conns(&self) -> u32 {
        self.counters.active.load(Ordering::Relaxed)
    }
    fn inactive_conns(&self) -> u32 {
        self.counters.inactive.load(Ordering::Relaxed)
    }
    fn addr(&self) -> u32 {
        u32::from_be_bytes(self.key.addr)
    }
    fn port(&self) -> u16 {
        self.key.port
    }
}

/// A virtual service, as one snapshot sees it. Immutable but for the scheduler's state.
#[pin_data]
pub(crate) struct Service {
    pub(crate) key: ServiceKey,
    pub(crate) sched_kind: SchedKind,
    pub(crate) flags: u32,
    /// Sorted by key.
    pub(crate) dests: KVec<Dest>,
    /// Maglev's lookup table (`mh` only, else empty).
    mh_table: KVVec<u16>,
    pub(crate) stats: Arc<Stats>,
    #[pin]
    sched: SpinLockBh<Scheduler>,
}

impl Service {
    /// Builds a service with `dests` (sorted here), a fresh scheduler state and, for `mh`,
    /// its lookup table.
    pub(crate) fn build(
        key: ServiceKey,
        sched_kind: SchedKind,
        flags: u32,
        mut dests: KVec<Dest>,
        stats: Arc<Stats>,
    ) -> Result<Arc<Self>> {
        sort::sort_by_key(&mut dests, |d| d.key);
        let mut mh_table = KVVec::new();
        if sched_kind == SchedKind::Mh {
            mh_table = KVVec::from_elem(mh::EMPTY, mh::DEFAULT_TABLE_SIZE, GFP_KERNEL)?;
            let mut scratch = KVec::from_elem(mh::Perm::default(), dests.len(), GFP_KERNEL)?;
            mh::populate(&dests, &mut mh_table, &mut scratch).map_err(|_| EINVAL)?;
        }
        let state = Scheduler::new(sched_kind, &dests);
        Arc::pin_init(
            pin_init!(Self {
                key,
                sched_kind,
                flags,
                dests,
                mh_table,
                stats,
                sched <- new_spinlock_bh!(state, "ipvs_defense_sched"),
            }),
            GFP_KERNEL,
        )
    }

    /// Index of the real server with `key`.
    pub(crate) fn dest_index(&self, key: &DestKey) -> Option<usize> {
        self.dests.binary_search_by_key(key, |d| d.key).ok()
    }

    /// Picks the real server for a new connection from `client` (network order) and
    /// `client_port`. `None` when every server is quiesced or there is none.
    pub(crate) fn schedule(&self, client: [u8; 4], client_port: u16) -> Option<usize> {
        // Maglev hashes the client's address only (as IPVS's `mh` does without its port
        // flag), so every connection of a client goes to the same server, on every director.
        let _ = client_port;
        let hash = if self.sched_kind == SchedKind::Mh {
            mh::source_hash(u32::from_be_bytes(client), 0)
        } else {
            0
        };
        self.sched.lock().pick(&self.dests, &self.mh_table, hash)
    }
}

/// A real server's protocol, address and port.
type ServerKey = (u8, [u8; 4], u16);

/// A real server removed from the configuration whose entries may still carry a flow.
struct Retired {
    key: ServerKey,
    counters: Arc<DestCounters>,
}

impl Retired {
    fn has_entries(&self) -> bool {
        let c = &self.counters;
        c.active.load(Ordering::Relaxed) + c.inactive.load(Ordering::Relaxed) > 0
    }
}

/// The route to one real server address, kept between packets (Documentation/ipvs-defense.rst,
/// "Route rule"). A snapshot starts with every cache empty.
struct ServerRoute {
    addr: [u8; 4],
    cache: RouteCache,
}

impl ServerRoute {
    fn new(addr: [u8; 4]) -> Self {
        Self {
            addr,
            cache: RouteCache::new(),
        }
    }
}

/// One snapshot of the whole configuration.
pub(crate) struct Config {
    /// Sorted by key.
    pub(crate) services: KVec<Arc<Service>>,
    /// Every (protocol, address, port) of a real server, sorted: replies from these without
    /// an entry are zombies.
    real_servers: KVec<ServerKey>,
    /// Real servers removed while they had entries, kept until a later update finds none.
    retired: KVec<Retired>,
    /// Where a reply of ours may come from: `real_servers` and the retired ones, sorted.
    reply_sources: KVec<ServerKey>,
    /// The route to each address of `reply_sources`, sorted by address; empty at first,
    /// looked up by the first packet that needs it.
    routes: KVec<ServerRoute>,
    /// Changes with every update; never 0 (netlink's dump consistency check needs that).
    pub(crate) generation: u32,
}

impl Config {
    /// The service with `key`.
    pub(crate) fn find(&self, key: &ServiceKey) -> Option<&Arc<Service>> {
        self.index(key).ok().and_then(|i| self.services.get(i))
    }

    /// Whether `addr`:`port` is a real server of some `proto` service.
    pub(crate) fn is_real_server(&self, proto: u8, addr: [u8; 4], port: u16) -> bool {
        self.real_servers
            .binary_search(&(proto, addr, port))
            .is_ok()
    }

    /// Whether a `proto` packet from `addr`:`port` may be a reply of ours: it comes from a
    /// real server, or from one removed while its entries lived.
    pub(crate) fn is_reply_source(&self, proto: u8, addr: [u8; 4], port: u16) -> bool {
        self.reply_sources
            .binary_search(&(proto, addr, port))
            .is_ok()
    }

    /// Whether `addr` is the address of a reply source of any TCP or UDP service (for
    /// fragments, which carry no port past the first).
    pub(crate) fn is_reply_source_addr(&self, addr: [u8; 4]) -> bool {
        [ipproto::TCP, ipproto::UDP].iter().any(|&proto| {
            let i = self
                .reply_sources
                .partition_point(|&e| e < (proto, addr, 0));
            self.reply_sources
                .get(i)
                .is_some_and(|&(p, a, _)| p == proto && a == addr)
        })
    }

    /// The one `proto` service that has the real server `addr`:`port`, and the server's
    /// index in it; `None` when no service or more than one has it.
    pub(crate) fn sole_service_of(
        &self,
        proto: u8,
        addr: [u8; 4],
        port: u16,
    ) -> Option<(&Arc<Service>, usize)> {
        let key = DestKey { addr, port };
        let mut found = None;
        for s in self.services.iter().filter(|s| s.key.proto == proto) {
            if let Some(i) = s.dest_index(&key) {
                if found.is_some() {
                    return None;
                }
                found = Some((s, i));
            }
        }
        found
    }

    /// The cached route to real server address `addr` (of a configured or retired server).
    pub(crate) fn route_cache(&self, addr: [u8; 4]) -> Option<&RouteCache> {
        let i = self.routes.binary_search_by_key(&addr, |r| r.addr).ok()?;
        self.routes.get(i).map(|r| &r.cache)
    }

    fn index(&self, key: &ServiceKey) -> core::result::Result<usize, usize> {
        self.services.binary_search_by_key(key, |s| s.key)
    }
}

/// The published configuration.
#[pin_data]
pub(crate) struct Store {
    #[pin]
    current: RcuBox<Config>,
}

/// A change to the configuration, applied by [`Store::apply`].
pub(crate) enum Change {
    /// Replace (or add, with `None` for the old one) the service at its key.
    Put(Option<ServiceKey>, Arc<Service>),
    /// Remove the service with this key.
    Remove(ServiceKey),
    /// Remove everything.
    Flush,
}

impl Store {
    pub(crate) fn new() -> Result<Arc<Self>> {
        let empty = KBox::new(
            Config {
                services: KVec::new(),
                real_servers: KVec::new(),
                retired: KVec::new(),
                reply_sources: KVec::new(),
                routes: KVec::new(),
                generation: 1,
            },
            GFP_KERNEL,
        )?;
        Arc::pin_init(
            pin_init!(Self {
                current <- RcuBox::new(empty),
            }),
            GFP_KERNEL,
        )
    }

    /// The current snapshot.
    pub(crate) fn read<'a>(&'a self, guard: &'a Guard) -> &'a Config {
        self.current.read(guard)
    }

    /// Validates and applies a change computed from the current snapshot by `f` (which
    /// runs with writers serialised, so the check and the change are atomic).
    pub(crate) fn update(&self, f: impl FnOnce(&Config) -> Result<Change>) -> Result {
        self.current.update(|cur| {
            let change = f(cur)?;
            let flush = matches!(change, Change::Flush);
            let mut services = KVec::with_capacity(cur.services.len() + 1, GFP_KERNEL)?;
            match change {
                Change::Flush => {}
                Change::Remove(key) => {
                    for s in cur.services.iter().filter(|s| s.key != key) {
                        services.push(Arc::clone(s), GFP_KERNEL)?;
                    }
                }
                Change::Put(old, new) => {
                    for s in cur.services.iter().filter(|s| Some(s.key) != old) {
                        services.push(Arc::clone(s), GFP_KERNEL)?;
                    }
                    services.push(new, GFP_KERNEL)?;
                    sort::sort_by_key(&mut services, |s| s.key);
                }
            }
            let mut real_servers = KVec::new();
            for s in services.iter() {
                for d in s.dests.iter() {
                    real_servers.push((s.key.proto, d.key.addr, d.key.port), GFP_KERNEL)?;
                }
            }
            sort::sort(&mut real_servers);
            // FLUSH empties the table too. Otherwise a server removed now is retired with
            // no look at its entries: a reader of the old snapshot may still open one. One
            // removed earlier is dropped once it has none: the grace period of the update
            // that removed it has ended every such reader.
            let mut retired = KVec::new();
            if !flush {
                let removed = cur.services.iter().flat_map(|s| {
                    s.dests.iter().map(move |d| Retired {
                        key: (s.key.proto, d.key.addr, d.key.port),
                        counters: Arc::clone(&d.counters),
                    })
                });
                let earlier = cur
                    .retired
                    .iter()
                    .filter(|r| r.has_entries())
                    .map(|r| Retired {
                        key: r.key,
                        counters: Arc::clone(&r.counters),
                    });
                for r in Iterator::chain(removed, earlier) {
                    if real_servers.binary_search(&r.key).is_err() {
                        retired.push(r, GFP_KERNEL)?;
                    }
                }
            }
            let mut reply_sources =
                KVec::with_capacity(real_servers.len() + retired.len(), GFP_KERNEL)?;
            for k in Iterator::chain(real_servers.iter(), retired.iter().map(|r| &r.key)) {
                reply_sources.push(*k, GFP_KERNEL)?;
            }
            // A key twice (a server retired from two services) does a search no harm.
            sort::sort(&mut reply_sources);
            let mut addrs = KVec::with_capacity(reply_sources.len(), GFP_KERNEL)?;
            for &(_, addr, _) in reply_sources.iter() {
                addrs.push(addr, GFP_KERNEL)?;
            }
            sort::sort(&mut addrs);
            let mut routes = KVec::with_capacity(addrs.len(), GFP_KERNEL)?;
            for &addr in addrs.iter() {
                if routes.last().map(|r: &ServerRoute| r.addr) != Some(addr) {
                    routes.push(ServerRoute::new(addr), GFP_KERNEL)?;
                }
            }
            let generation = match cur.generation.wrapping_add(1) {
                0 => 1,
                g => g,
            };
            Ok::<_, Error>(KBox::new(
                Config {
                    services,
                    real_servers,
                    retired,
                    reply_sources,
                    routes,
                    generation,
                },
                GFP_KERNEL,
            )?)
        })?;
        Ok(())
    }
}
