// SPDX-License-Identifier: GPL-2.0

//! Route policy: where a packet for a real server goes, whether a packet came from one,
//! the TTL, and the route-error drop (Documentation/ipvs-defense.rst, "Route rule").

use core::fmt;

use crate::director::{config::Config, stats::Stats};
use crate::logic::drops::DropReason;
use crate::logic::packet::{self, Packet, Reset, RST_LEN};
use kernel::{
    net::netfilter::Verdict,
    net::route::{fib_prefix_len, net_ratelimit, OutRoute, Route, RouteRef, RouteType},
    net::skbuff::{NewPacket, SkBuff},
    prelude::*,
    sync::rcu::{self, Guard},
};

use super::DataPath;

/// Where a packet for a real server goes after DNAT.
pub(super) enum Next<'a> {
    /// Out through this route.
    Out(OutRoute<'a>),
    /// On into local delivery: the real server is one of the director's own addresses.
    Local,
}

/// Why a real server has no next hop the director may use.
#[derive(Clone, Copy, Debug)]
pub(super) enum NoRoute {
    /// The lookup failed: no route (`ENETUNREACH`), or an unreachable (`EHOSTUNREACH`),
    /// prohibit (`EACCES`) or blackhole (`EINVAL`) route.
    Lookup(Error),
    /// A route of another type than unicast or local.
    NotUnicast(RouteType),
    /// The route's device is down or has no carrier.
    DeviceDown,
    /// Only a default route matches: none was configured for the server.
    DefaultOnly,
}

impl fmt::Display for NoRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoRoute::Lookup(e) => write!(f, "{e:?}"),
            NoRoute::NotUnicast(t) => write!(f, "route type {t:?}"),
            NoRoute::DeviceDown => f.write_str("device down"),
            NoRoute::DefaultOnly => f.write_str("only the default route"),
        }
    }
}

/// Whether the route rule lets `r` be used, and where it leads (`true`: local delivery). A
/// route is usable when it is unicast with its device up, or local; the prefix is checked
/// by [`lookup`], once per route.
fn usable(r: RouteRef<'_>) -> Result<bool, NoRoute> {
    match r.route_type() {
        RouteType::Local => Ok(true),
        RouteType::Unicast if !r.device_up() => Err(NoRoute::DeviceDown),
        RouteType::Unicast => Ok(false),
        other => Err(NoRoute::NotUnicast(other)),
    }
}

/// Looks up the route to real server `addr` and applies the whole route rule: usable, and
/// unicast through a route of the server's own, never a default route (prefix length 0,
/// with or without a gateway), which in NAT mode means that none was configured for it.
fn lookup(addr: [u8; 4]) -> Result<Route, NoRoute> {
    let r = Route::output(addr).map_err(NoRoute::Lookup)?;
    if !usable(r.get())? {
        match fib_prefix_len(addr) {
            Ok(0) => return Err(NoRoute::DefaultOnly),
            Ok(_) => {}
            Err(e) => return Err(NoRoute::Lookup(e)),
        }
    }
    Ok(r)
}

/// The next hop to real server `addr`: the route cached for it in `cfg` while the FIB has
/// not changed since it was looked up, or a new lookup, cached for the packets after this
/// one; local delivery for a server on one of the director's own addresses. The route rule
/// applies to every lookup, and the device's state to every packet.
pub(super) fn next_hop<'a>(
    cfg: &'a Config,
    addr: [u8; 4],
    guard: &'a Guard,
) -> Result<Next<'a>, NoRoute> {
    let cache = cfg.route_cache(addr);
    let route = match cache.and_then(|c| c.get(guard)) {
        Some(r) => OutRoute::Cached(r),
        None => {
            let fresh = lookup(addr).inspect_err(|_| {
                if let Some(c) = cache {
                    c.clear();
                }
            })?;
            match cache {
                Some(c) => match c.set(fresh, guard) {
                    Ok(r) => OutRoute::Cached(r),
                    Err(r) => OutRoute::Owned(r),
                },
                None => OutRoute::Owned(fresh),
            }
        }
    };
    Ok(if usable(route.get())? {
        Next::Local
    } else {
        Next::Out(route)
    })
}

/// Whether a packet that names real server `addr` as its source came from it: it arrived
/// on the device of our route to that server, or, made by this host (`in_ifindex` 0), the
/// server is a local one. Independent of `rp_filter`.
pub(super) fn came_from(cfg: &Config, addr: [u8; 4], in_ifindex: i32, guard: &Guard) -> bool {
    match next_hop(cfg, addr, guard) {
        Ok(Next::Out(r)) => in_ifindex != 0 && r.get().ifindex() == in_ifindex,
        Ok(Next::Local) => in_ifindex == 0,
        Err(_) => false,
    }
}

/// Whether a packet for a real server reached the end of its TTL here: one we forward
/// (not one for a local real server) with a TTL of 1 or 0 is dropped and answered with ICMP
/// time exceeded, as a router does.
pub(super) fn expires_here(pkt: &Packet, next: &Next<'_>) -> bool {
    matches!(next, Next::Out(_)) && pkt.ip.ttl <= 1
}

/// Decrements the TTL of a packet we forward (after [`expires_here`] said it may).
fn decrement_ttl(skb: &mut SkBuff) -> Result {
    let hdr = skb.writable_network(packet::IPV4_MIN_HEADER as u32)?;
    packet::decrement_ttl(hdr).map_err(|_| EINVAL)
}

/// Sends a packet rewritten for a real server on to `next`, untracked: out through our
/// route with its TTL decremented, or, for a real server that is the director itself, into
/// local delivery to the rewritten address, without the socket early demux found for the
/// old one.
pub(super) fn send_on<'a>(skb: &mut SkBuff, next: Next<'a>) -> Verdict<'a> {
    skb.untrack();
    match next {
        Next::Out(route) => match decrement_ttl(skb) {
            Ok(()) => Verdict::Transmit(route),
            Err(_) => Verdict::Drop,
        },
        Next::Local => {
            skb.orphan();
            Verdict::Accept
        }
    }
}

impl DataPath {
    /// Counts (`route_errors`) and logs, rate-limited, a packet for real server
    /// `addr`:`port` that was not sent for want of a usable route (`why`); `what` ends the
    /// line ("packet dropped", "reset not sent", ...).
    fn no_route(&self, (addr, port): (u32, u16), why: NoRoute, what: &str) {
        self.global.count_drop(DropReason::Route);
        if net_ratelimit() {
            let a = addr.to_be_bytes();
            pr_warn!(
                "no usable route to real server {}.{}.{}.{}:{} ({}): {}\n",
                a[0],
                a[1],
                a[2],
                a[3],
                port,
                why,
                what
            );
        }
    }

    /// Drops a client's packet for real server `rs`, which has no usable route (`why`):
    /// counted for the service too, logged, and the client told (host unreachable).
    pub(super) fn route_error<'a>(
        &self,
        skb: &mut SkBuff,
        svc: &Stats,
        rs: (u32, u16),
        why: NoRoute,
    ) -> Verdict<'a> {
        svc.count_drop(DropReason::Route);
        self.no_route(rs, why, "packet dropped");
        skb.send_icmp_host_unreachable();
        Verdict::Drop
    }

    /// Drops an ICMP error from a client for real server `rs`, which has no usable route.
    pub(super) fn icmp_route_error<'a>(&self, rs: (u32, u16), why: NoRoute) -> Verdict<'a> {
        self.no_route(rs, why, "ICMP error dropped");
        Verdict::Drop
    }

    /// Sends the real server a TCP reset in the client's name, so that it frees its side
    /// of a connection the director dropped (an evicted half-open entry, a zombie), by the
    /// same route rule as every packet for it: without a usable route the reset is not
    /// sent, and that is counted and logged as a route error. A real server on one of the
    /// director's own addresses gets none.
    pub(super) fn reset_real_server(&self, rst: &Reset) {
        let guard = rcu::read_lock();
        let route = match next_hop(self.store.read(&guard), rst.dst.to_be_bytes(), &guard) {
            Ok(Next::Out(r)) => r.into_owned(),
            Ok(Next::Local) => return,
            Err(why) => return self.no_route((rst.dst, rst.dst_port), why, "reset not sent"),
        };
        let Ok(mut p) = NewPacket::alloc_ipv4(RST_LEN as u32) else {
            return;
        };
        if packet::build_tcp_rst(p.data_mut(), rst).is_ok() {
            p.send(route);
        }
    }
}
