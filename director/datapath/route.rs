// SPDX-License-Identifier: GPL-2.0

//! Route policy: where a packet for a real server goes, whether a packet came from one,
//! the TTL, and the route-error drop (Documentation/ipvs-defense.rst, "Route rule").

use core::fmt;

use crate::director::stats::Stats;
use crate::logic::drops::DropReason;
use crate::logic::packet::{self, Packet, Reset, RST_LEN};
use kernel::{
    net::netfilter::Verdict,
    net::route::{fib_prefix_len, net_ratelimit, Route, RouteType},
    net::skbuff::{NewPacket, SkBuff},
    prelude::*,
};

use super::DataPath;

/// Where a packet for a real server goes after DNAT.
pub(super) enum Next {
    /// Out through this route of ours.
    Out(Route),
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

/// The next hop to a real server: a route the director may use, or local delivery. A
/// route is usable when it is unicast, its device up, direct or through a gateway, by a
/// route of the server's own; never a default route (prefix length 0, with or without a
/// gateway), which in NAT mode means that no route was configured for the server.
pub(super) fn next_hop(addr: [u8; 4]) -> Result<Next, NoRoute> {
    let r = Route::output(addr).map_err(NoRoute::Lookup)?;
    match r.route_type() {
        RouteType::Local => Ok(Next::Local),
        RouteType::Unicast if !r.device_up() => Err(NoRoute::DeviceDown),
        RouteType::Unicast => match fib_prefix_len(addr) {
            Ok(0) => Err(NoRoute::DefaultOnly),
            Ok(_) => Ok(Next::Out(r)),
            Err(e) => Err(NoRoute::Lookup(e)),
        },
        other => Err(NoRoute::NotUnicast(other)),
    }
}

/// Whether a packet that names real server `addr` as its source came from it: it arrived
/// on the device of our route to that server, or, made by this host (`in_ifindex` 0), the
/// server is a local one. Independent of `rp_filter`.
pub(super) fn came_from(addr: [u8; 4], in_ifindex: i32) -> bool {
    match next_hop(addr) {
        Ok(Next::Out(r)) => in_ifindex != 0 && r.ifindex() == in_ifindex,
        Ok(Next::Local) => in_ifindex == 0,
        Err(_) => false,
    }
}

/// Whether a packet for a real server reached the end of its TTL here: one we forward
/// (not one for a local real server) with a TTL of 1 or 0 is dropped and answered with ICMP
/// time exceeded, as a router does.
pub(super) fn expires_here(pkt: &Packet, next: &Next) -> bool {
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
pub(super) fn send_on(skb: &mut SkBuff, next: Next) -> Verdict {
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
    pub(super) fn route_error(
        &self,
        skb: &mut SkBuff,
        svc: &Stats,
        rs: (u32, u16),
        why: NoRoute,
    ) -> Verdict {
        svc.count_drop(DropReason::Route);
        self.no_route(rs, why, "packet dropped");
        skb.send_icmp_host_unreachable();
        Verdict::Drop
    }

    /// Drops an ICMP error from a client for real server `rs`, which has no usable route.
    pub(super) fn icmp_route_error(&self, rs: (u32, u16), why: NoRoute) -> Verdict {
        self.no_route(rs, why, "ICMP error dropped");
        Verdict::Drop
    }

    /// Sends the real server a TCP reset in the client's name, so that it frees its side
    /// of a connection the director dropped (an evicted half-open entry, a zombie), by the
    /// same route rule as every packet for it: without a usable route the reset is not
    /// sent, and that is counted and logged as a route error. A real server on one of the
    /// director's own addresses gets none.
    pub(super) fn reset_real_server(&self, rst: &Reset) {
        let route = match next_hop(rst.dst.to_be_bytes()) {
            Ok(Next::Out(r)) => r,
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
