// SPDX-License-Identifier: GPL-2.0

//! The NAT data path (Documentation/ipvs-defense.rst, "Data path").
//!
//! - Client → VIP:vport at `LOCAL_IN` ([`DataPath::inbound`]): find the flow's entry (only a
//!   TCP SYN may create one), schedule a real server for a new flow, look up **our own**
//!   route to the real server, rewrite the destination (DNAT, incremental checksums) and
//!   send the packet out through that route ourselves. A failed route lookup drops the
//!   packet, counts `route_errors`, logs (rate limited) and tells the client (ICMP host
//!   unreachable): the packet never leaves through a default gateway or another interface.
//! - Real server → client at `FORWARD` ([`DataPath::outbound`]): find the entry by the
//!   reply's key, rewrite the source back to VIP:vport (SNAT) and let the kernel forward
//!   it. A reply from a configured real server without an entry is a zombie: dropped and
//!   counted, never masqueraded.
//!
//! Nothing here allocates or sleeps: hooks run in softirq context. The files, by concern:
//! Documentation/ipvs-defense.rst, "Data path".

mod flow;
mod headers;
mod icmp;
mod inbound;
mod reply;
mod route;
mod synproxy;
mod zombie;

use headers::{first_bytes, may_be_icmp_error, quick_key, HEADER_AND_PORTS};
use icmp::icmp_quote;

use super::{
    config::{ServiceKey, Store},
    defense::Controller,
    stats::{MalformedStats, ProxyStats, Stats},
    table::Table,
    tunables::Tunables,
};
use crate::logic::{
    cookie,
    drops::DropReason,
    packet::{self, Packet, Side, MAX_HEADERS},
    ratelimit::RateLimit,
};
use kernel::{
    jiffies,
    net::netfilter::Verdict,
    net::skbuff::SkBuff,
    sync::{rcu::Guard, Arc},
};

/// Resets sent to real servers about zombies, at most this many a second (a limit of their
/// own: `net_ratelimit` is the log's).
const ZOMBIE_RESETS_PER_SEC: u32 = 50;

/// The data path's shared state.
pub(crate) struct DataPath {
    pub(crate) store: Arc<Store>,
    pub(crate) table: Arc<Table>,
    pub(crate) global: Arc<Stats>,
    pub(crate) malformed: Arc<MalformedStats>,
    pub(crate) defense: Arc<Controller>,
    pub(crate) tunables: Arc<Tunables>,
    pub(crate) zombie_resets: RateLimit,
    /// The SYN proxy's cookie secrets, chosen at load.
    pub(crate) cookies: cookie::Secrets,
    /// The SYN proxy's counters.
    pub(crate) proxy: Arc<ProxyStats>,
}

impl DataPath {
    /// The rate limit [`DataPath::zombie_resets`] starts with.
    pub(crate) const fn zombie_reset_limit() -> RateLimit {
        RateLimit::new(ZOMBIE_RESETS_PER_SEC, jiffies::HZ)
    }

    /// Expires entries: the sweep, every 250 ms in process context. Each shard's expired
    /// entries are removed, except proxied ones in set-up whose real server is silent: their
    /// SYN is sent again, or they are given up ([`DataPath::setup_expired`]).
    pub(crate) fn sweep(&self, now: u64) {
        for s in 0..self.table.shard_count() {
            let mut todo = synproxy::SetupSends::new();
            self.table
                .expire_shard(s, now, |e| self.setup_expired(e, now, &mut todo));
            self.send_setup(&todo);
        }
    }

    /// Counts a drop for the service `svc` and for the director.
    fn count_drop(&self, svc: &Stats, why: DropReason) {
        svc.count_drop(why);
        self.global.count_drop(why);
    }

    /// Drops a packet of ours whose headers could not be rewritten, counted for the
    /// director (`rewrite_failures`): it fails only when the host cannot allocate.
    fn rewrite_failed(&self) -> Verdict<'static> {
        self.global.count_drop(DropReason::Rewrite);
        Verdict::Drop
    }

    /// A real server's reply made to come from `vaddr:vport` (SNAT), let through untracked.
    fn reply_from_service(
        &self,
        skb: &mut SkBuff,
        pkt: &Packet,
        vaddr: u32,
        vport: u16,
    ) -> Verdict<'static> {
        match headers::rewrite(skb, pkt, Side::Source, vaddr, vport) {
            Ok(()) => {
                skb.untrack();
                Verdict::Accept
            }
            Err(_) => self.rewrite_failed(),
        }
    }

    /// Every packet, at `PRE_ROUTING` before conntrack: one of our flows' packets (to a
    /// service, from a real server, or an ICMP error quoting either) is marked untracked,
    /// so that conntrack neither judges it (a reply whose request it never saw would be
    /// INVALID to a `ct state invalid drop` rule) nor keeps an entry for the flow, and NAT
    /// rules leave it alone, as IPVS does with its default `conntrack = 0`.
    pub(crate) fn pre_routing(&self, skb: &mut SkBuff, guard: &Guard) -> Verdict<'static> {
        if self.is_ours(skb, guard) {
            skb.untrack();
        }
        Verdict::Accept
    }

    fn is_ours(&self, skb: &SkBuff, guard: &Guard) -> bool {
        let mut first = [0u8; HEADER_AND_PORTS];
        let Some(h) = first_bytes(skb, &mut first) else {
            return false;
        };
        let cfg = self.store.read(guard);
        if let (Some(dst), Some(src)) =
            (quick_key(h, Side::Destination), quick_key(h, Side::Source))
        {
            return cfg.find(&dst).is_some() || cfg.is_reply_source(src.proto, src.addr, src.port);
        }
        if !may_be_icmp_error(h) {
            return false;
        }
        let len = skb.network_len();
        let mut buf = [0u8; MAX_HEADERS];
        let Some(h) = first_bytes(skb, &mut buf) else {
            return false;
        };
        let Some(q) = packet::parse_headers(h, len as usize)
            .ok()
            .as_ref()
            .and_then(icmp_quote)
        else {
            return false;
        };
        let reply = ServiceKey {
            proto: q.protocol,
            addr: q.src.to_be_bytes(),
            port: q.src_port,
        };
        cfg.find(&reply).is_some()
            || cfg.is_real_server(q.protocol, q.dst.to_be_bytes(), q.dst_port)
    }
}
