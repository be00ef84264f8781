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
//! Nothing here allocates or sleeps: hooks run in softirq context.

use super::{
    config::{Service, ServiceKey, Store},
    defense::Controller,
    stats::{self, DropReason as Why, Stats},
    table::{self, Insert, Refs, Table},
    tunables::{TimeoutSet, Tunables},
};
use crate::logic::{
    defense::{client_segment_allowed, opens_connection},
    entry::{EntryFlags, FlowKey, Protocol, Target},
    packet::{self, CsumMode, Icmp, Packet, Quote, Reset, Side, Transport, MAX_HEADERS, RST_LEN},
    proto::ipproto,
    ratelimit::RateLimit,
    tcp_state::{Direction, Table as StateTable, TcpFlags, TcpState},
    timeouts::TimeoutRow,
};
use core::sync::atomic::Ordering;
use kernel::{
    jiffies,
    net::netfilter::Verdict,
    net::route::{fib_prefix_len, net_ratelimit, Route, RTN_LOCAL, RTN_UNICAST},
    net::skbuff::{ChecksumState, NewPacket, SkBuff},
    prelude::*,
    sync::{rcu, Arc},
};

/// ICMP "host unreachable".
const ICMP_HOST_UNREACH: u8 = 1;

/// Bytes of a packet's start that hold its IPv4 header (at most 60) and ports.
const HEADER_AND_PORTS: usize = 64;

/// Resets sent to real servers about zombies, at most this many a second (a limit of their
/// own: `net_ratelimit` is the log's).
const ZOMBIE_RESETS_PER_SEC: u32 = 50;

/// The data path's shared state.
pub(crate) struct DataPath {
    pub(crate) store: Arc<Store>,
    pub(crate) table: Arc<Table>,
    pub(crate) global: Arc<Stats>,
    pub(crate) defense: Arc<Controller>,
    pub(crate) tunables: Arc<Tunables>,
    pub(crate) zombie_resets: RateLimit,
}

impl DataPath {
    /// The rate limit [`DataPath::zombie_resets`] starts with.
    pub(crate) const fn zombie_reset_limit() -> RateLimit {
        RateLimit::new(ZOMBIE_RESETS_PER_SEC, jiffies::HZ)
    }
}

/// Sends the real server a TCP reset in the client's name, so that it frees its side of a
/// connection the director dropped (an evicted half-open entry, a zombie).
fn reset_real_server(rst: &Reset) {
    let Some(route) = route_to(rst.dst.to_be_bytes()) else {
        return;
    };
    let Ok(mut p) = NewPacket::alloc_ipv4(RST_LEN as u32) else {
        return;
    };
    if packet::build_tcp_rst(p.data_mut(), rst).is_ok() {
        p.send(route);
    }
}

/// Protocol, address and port of one side of a TCP or UDP packet, read without full
/// parsing, to decide quickly whether it is ours at all: the destination for a service, the
/// source for a real server.
fn quick_key(h: &[u8], side: Side) -> Option<ServiceKey> {
    let proto = *h.get(9)?;
    if proto != ipproto::TCP && proto != ipproto::UDP {
        return None;
    }
    let ihl = usize::from(*h.first()? & 0x0f) * 4;
    let (a, p) = match side {
        Side::Source => (12, ihl),
        Side::Destination => (16, ihl + 2),
    };
    let addr: [u8; 4] = h.get(a..a + 4)?.try_into().ok()?;
    let port = u16::from_be_bytes(h.get(p..p + 2)?.try_into().ok()?);
    Some(ServiceKey { proto, addr, port })
}

/// Where a packet for a real server goes after DNAT.
enum Next {
    /// Out through this route of ours.
    Out(Route),
    /// On into local delivery: the real server is one of the director's own addresses.
    Local,
}

/// The next hop to a real server: a route as [`route_to`] wants it, or local delivery.
fn next_hop(addr: [u8; 4]) -> Option<Next> {
    let r = Route::output(addr).ok()?;
    match r.rt_type() {
        RTN_LOCAL => Some(Next::Local),
        _ => usable(&r, addr).then_some(Next::Out(r)),
    }
}

/// Whether the director may send a real server's packets through `r`: a unicast route
/// whose device is up, direct or through a gateway, by a route of the server's own; never
/// a default route (prefix length 0, with or without a gateway), which in NAT mode means
/// that no route was configured for the server.
fn usable(r: &Route, addr: [u8; 4]) -> bool {
    r.rt_type() == RTN_UNICAST && r.device_up() && fib_prefix_len(addr).is_ok_and(|len| len > 0)
}

/// A new flow's first packet, for [`DataPath::open`].
struct Opening<'a> {
    /// The flow's inbound key (client → VIP:vport) and its hash.
    key: &'a FlowKey,
    hin: u64,
    /// The service and the index of the real server scheduled.
    svc: &'a Service,
    di: usize,
    /// `EntryFlags` to set.
    flags: u16,
    /// The packet: its direction, TCP fields and length.
    dir: Direction,
    tcp: Option<TcpInfo>,
    len: u32,
    now: u64,
    engaged: bool,
}

/// What the data path needs of a TCP header.
#[derive(Clone, Copy)]
struct TcpInfo {
    flags: TcpFlags,
    seq: u32,
    ack_seq: u32,
    payload: u32,
}

/// The flow key and, for TCP, its header fields, of a parsed packet.
fn flow(pkt: &Packet) -> Option<(FlowKey, Option<TcpInfo>)> {
    let (sport, dport, tcp) = match pkt.transport {
        Transport::Tcp(t) => (
            t.src_port,
            t.dst_port,
            Some(TcpInfo {
                flags: t.flags,
                seq: t.seq,
                ack_seq: t.ack_seq,
                payload: pkt.payload_len() as u32,
            }),
        ),
        Transport::Udp(u) => (u.src_port, u.dst_port, None),
        _ => return None,
    };
    let protocol = Protocol::from_number(pkt.ip.protocol)?;
    Some((
        FlowKey {
            saddr: pkt.ip.src,
            daddr: pkt.ip.dst,
            sport,
            dport,
            protocol,
        },
        tcp,
    ))
}

/// Bytes of IP and transport headers the rewrite touches.
fn header_bytes(pkt: &Packet) -> u32 {
    let l4 = match pkt.transport {
        Transport::Tcp(t) => t.header_len,
        _ => packet::UDP_HEADER,
    };
    (pkt.l4_offset() + l4) as u32
}

/// The timeout, in ticks from now, for an entry in the state of `row`.
fn expiry(row: TimeoutRow, now: u64, timeouts: TimeoutSet<'_>) -> u64 {
    now.saturating_add(timeouts.secs(row).saturating_mul(jiffies::HZ))
}

/// A route the director may use to reach a real server (see [`usable`]).
fn route_to(addr: [u8; 4]) -> Option<Route> {
    let r = Route::output(addr).ok()?;
    usable(&r, addr).then_some(r)
}

/// Whether a packet that names real server `addr` as its source came from it: it arrived
/// on the device of our route to that server, or, made by this host (`in_ifindex` 0), the
/// server is a local one. Independent of `rp_filter`.
fn came_from(addr: [u8; 4], in_ifindex: i32) -> bool {
    match next_hop(addr) {
        Some(Next::Out(r)) => in_ifindex != 0 && r.ifindex() == in_ifindex,
        Some(Next::Local) => in_ifindex == 0,
        None => false,
    }
}

/// Whether a packet for a real server reached the end of its TTL here: one we forward
/// (not one for a local real server) with a TTL of 1 or 0 is dropped and answered with ICMP
/// time exceeded, as a router does.
fn expires_here(pkt: &Packet, next: &Next) -> bool {
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
fn send_on(skb: &mut SkBuff, next: Next) -> Verdict {
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

/// Rewrites one side of the packet's addresses and ports in place.
fn rewrite(skb: &mut SkBuff, pkt: &Packet, side: Side, addr: u32, port: u16) -> Result {
    let mode = if skb.checksum_state() == ChecksumState::Partial {
        CsumMode::Partial
    } else {
        CsumMode::Full
    };
    let hdr = skb.writable_network(header_bytes(pkt))?;
    packet::rewrite(hdr, pkt, side, addr, port, mode).map_err(|_| EINVAL)?;
    skb.drop_complete_checksum();
    Ok(())
}

/// Applies a packet to an entry's state and timer; keeps the real server's active/inactive
/// counts right, and queues an entry that becomes half-open for eviction.
#[allow(clippy::too_many_arguments)]
fn track(
    table: &Table,
    shard: &mut table::Shard,
    i: u32,
    dir: Direction,
    tcp: Option<TcpInfo>,
    len: u32,
    now: u64,
    timeouts: TimeoutSet<'_>,
) -> Option<u32> {
    let e = shard.entry_mut(i)?;
    e.count(dir, u64::from(len), now);
    let before = e.state;
    if let Some(t) = tcp {
        let table = if timeouts.engaged {
            StateTable::Secure
        } else {
            StateTable::Normal
        };
        e.tcp_segment(table, dir, t.flags, t.seq);
    }
    let was = e.flags.has(EntryFlags::ACTIVE);
    let is = table::is_active(e.state, e.protocol);
    if was != is {
        if is {
            e.flags.set(EntryFlags::ACTIVE);
        } else {
            e.flags.clear(EntryFlags::ACTIVE);
        }
    }
    let expires = expiry(e.timeout_row(), now, timeouts);
    // A segment from the real server that is neither a SYN nor a RST, after its SYN+ACK
    // (the entry was past SR): the server accepted the client's handshake, so the client is
    // real and becomes known (once per connection).
    let proven = dir == Direction::Output
        && !matches!(
            before,
            TcpState::None | TcpState::SynRecv | TcpState::SynSent
        )
        && !e.flags.has(EntryFlags::CLIENT_KNOWN)
        && tcp.is_some_and(|t| !t.flags.has(TcpFlags::SYN) && !t.flags.has(TcpFlags::RST));
    if proven {
        e.flags.set(EntryFlags::CLIENT_KNOWN);
    }
    let client = e.client_addr;
    let became_half_open =
        e.protocol == Protocol::Tcp && !before.is_half_open() && e.state.is_half_open();
    if was != is {
        if let Some(r) = shard.refs(i) {
            let (from, to) = if is {
                (&r.dest.inactive, &r.dest.active)
            } else {
                (&r.dest.active, &r.dest.inactive)
            };
            from.fetch_sub(1, Ordering::Relaxed);
            to.fetch_add(1, Ordering::Relaxed);
        }
    }
    shard.rearm(i, expires);
    if became_half_open {
        table.queue_half_open(shard, i);
    }
    proven.then_some(client)
}

/// The reset that answers a segment from a real server nobody knows (RFC 9293 §3.10.7.1):
/// with its acknowledgment number as sequence number if it has one, else a RST+ACK of
/// everything it sent.
fn zombie_reset(key: &FlowKey, t: TcpInfo) -> Reset {
    let (seq, ack_seq) = if t.flags.has(TcpFlags::ACK) {
        (t.ack_seq, None)
    } else {
        let syn_fin = u32::from(t.flags.has(TcpFlags::SYN)) + u32::from(t.flags.has(TcpFlags::FIN));
        (0, Some(t.seq.wrapping_add(t.payload).wrapping_add(syn_fin)))
    };
    Reset {
        src: key.daddr,
        dst: key.saddr,
        src_port: key.dport,
        dst_port: key.sport,
        seq,
        ack_seq,
    }
}

/// The quoted TCP or UDP packet of an ICMP error, if the packet is one.
fn icmp_quote(pkt: &Packet) -> Option<Quote> {
    match pkt.transport {
        Transport::Icmp(Icmp { quote: Some(q), .. })
            if q.protocol == ipproto::TCP || q.protocol == ipproto::UDP =>
        {
            Some(q)
        }
        _ => None,
    }
}

/// Translates an ICMP error in place: the outer address on `outer`, and the quoted address
/// and port on the other side, become `addr`:`port`.
fn rewrite_icmp(
    skb: &mut SkBuff,
    pkt: &Packet,
    q: &Quote,
    outer: Side,
    addr: u32,
    port: u16,
) -> Result {
    let n = q.offset + q.header_len + packet::UDP_HEADER;
    let hdr = skb.writable_network(n as u32)?;
    packet::rewrite_icmp_error(hdr, pkt, outer, addr, port).map_err(|_| EINVAL)?;
    skb.drop_complete_checksum();
    Ok(())
}

/// Copies the packet's first bytes (all its headers, for a well-formed packet) into `buf`,
/// wherever they lie in the `sk_buff`; returns them.
fn copy_headers<'a>(skb: &SkBuff, buf: &'a mut [u8; MAX_HEADERS]) -> Option<&'a [u8]> {
    let n = (skb.network_len() as usize).min(MAX_HEADERS);
    let h = buf.get_mut(..n)?;
    skb.copy_network(0, h).ok()?;
    Some(h)
}

impl DataPath {
    /// Client → VIP, at `LOCAL_IN`.
    pub(crate) fn inbound(&self, skb: &mut SkBuff) -> Verdict {
        let len = skb.network_len();
        let mut buf = [0u8; MAX_HEADERS];
        let Some(h) = copy_headers(skb, &mut buf) else {
            return Verdict::Accept;
        };
        if h.get(9) == Some(&packet::IPPROTO_ICMP) {
            return self.icmp_inbound(skb, h, len);
        }
        let Some(skey) = quick_key(h, Side::Destination) else {
            return Verdict::Accept;
        };
        let guard = rcu::read_lock();
        let cfg = self.store.read(&guard);
        let Some(svc) = cfg.find(&skey) else {
            return Verdict::Accept;
        };
        let pkt = match packet::parse_headers(h, len as usize) {
            Ok(p) => p,
            Err(why) => {
                svc.stats.count_drop(Why::Malformed);
                self.global.count_drop(Why::Malformed);
                stats::count_malformed(why);
                if net_ratelimit() {
                    pr_info!("malformed packet for a service dropped: {}\n", why.name());
                }
                return Verdict::Drop;
            }
        };
        let Some((key, tcp)) = flow(&pkt) else {
            return Verdict::Accept;
        };
        let now = jiffies::now();
        let engaged = self.defense.engaged();
        let shard_lock = self.table.shard(key.saddr, key.sport);
        let hin = self.table.hash(&key);

        // An existing flow: its real server, under the shard lock.
        let existing = {
            let mut shard = shard_lock.lock();
            match shard.lookup_in(&key, hin) {
                Some(i) => {
                    // ACK validation: while engaged, a client ACK for a connection whose
                    // real server has not answered (SR), or that does not acknowledge the
                    // server's SYN+ACK (SA), is blind: it never reaches the server; so is
                    // a segment without ACK (a FIN, say) on such a half-open entry.
                    if let (true, Some(t), Some(e)) = (engaged, tcp, shard.entry(i)) {
                        if !client_segment_allowed(e.state, e.rs_isn, t.flags, t.ack_seq) {
                            drop(shard);
                            svc.stats.count_drop(Why::BlindAck);
                            self.global.count_drop(Why::BlindAck);
                            return Verdict::Drop;
                        }
                    }
                    let _ = track(
                        &self.table,
                        &mut shard,
                        i,
                        Direction::Input,
                        tcp,
                        len,
                        now,
                        self.tunables.timeouts(engaged),
                    );
                    shard.entry(i).zip(shard.refs(i)).map(|(e, r)| {
                        r.svc.inbound(len);
                        r.dest.stats.inbound(len);
                        (e.rs_addr, e.rs_port)
                    })
                }
                None => None,
            }
        };
        let (rs_addr, rs_port, next) = match existing {
            Some((addr, port)) => match next_hop(addr.to_be_bytes()) {
                Some(n) => (addr, port, n),
                None => return self.route_error(skb, &svc.stats, addr, port),
            },
            None => {
                // Only a SYN (without ACK, RST or FIN) may open a TCP connection.
                if let Some(t) = tcp {
                    if !opens_connection(t.flags) {
                        return Verdict::Drop;
                    }
                    // While engaged, new-connection SYNs are dropped at the rate, before
                    // they reach any real server.
                    if self.defense.drop_new_syn(key.saddr) {
                        svc.stats.count_drop(Why::SynRate);
                        self.global.count_drop(Why::SynRate);
                        return Verdict::Drop;
                    }
                }
                let Some(di) = svc.schedule(key.saddr.to_be_bytes(), key.sport) else {
                    return Verdict::Drop;
                };
                let Some(dest) = svc.dests.get(di) else {
                    return Verdict::Drop;
                };
                let (addr, port) = (u32::from_be_bytes(dest.key.addr), dest.key.port);
                let Some(next) = next_hop(dest.key.addr) else {
                    dest.counters.stats.count_drop(Why::Route);
                    return self.route_error(skb, &svc.stats, addr, port);
                };
                // A packet we forward whose TTL runs out here opens nothing.
                if expires_here(&pkt, &next) {
                    skb.send_icmp_time_exceeded();
                    return Verdict::Drop;
                }
                let opening = Opening {
                    key: &key,
                    hin,
                    svc,
                    di,
                    flags: if matches!(next, Next::Local) {
                        EntryFlags::LOCAL
                    } else {
                        0
                    },
                    dir: Direction::Input,
                    tcp,
                    len,
                    now,
                    engaged,
                };
                match self.open(&opening) {
                    // Another CPU may have opened the flow meanwhile: follow its entry.
                    Some((a, p)) if (a, p) != (addr, port) => match next_hop(a.to_be_bytes()) {
                        Some(n) => (a, p, n),
                        None => return self.route_error(skb, &svc.stats, a, p),
                    },
                    Some(_) => (addr, port, next),
                    None => return Verdict::Drop,
                }
            }
        };
        drop(guard);
        if expires_here(&pkt, &next) {
            skb.send_icmp_time_exceeded();
            return Verdict::Drop;
        }
        // A don't-fragment packet larger than the route's MTU: the client is told, as the
        // forwarding path would tell it, from the packet as received (its stack must
        // recognise the quote). GSO packets are segmented on output, so they fit.
        if let Next::Out(route) = &next {
            let mtu = route.mtu();
            if pkt.ip.dont_fragment && len > mtu && !skb.is_gso() {
                skb.send_icmp_frag_needed(mtu);
                return Verdict::Drop;
            }
        }
        self.global.inbound(len);
        if rewrite(skb, &pkt, Side::Destination, rs_addr, rs_port).is_err() {
            return Verdict::Drop;
        }
        send_on(skb, next)
    }

    /// Opens the entry of a new flow (see [`Opening`]), evicting a half-open entry while
    /// engaged if the table is full, and counts it. Returns the real server the flow's
    /// packets go to (the one of an entry another CPU opened meanwhile, if any); `None`
    /// when the table is full (counted as `table_full`).
    fn open(&self, o: &Opening<'_>) -> Option<(u32, u16)> {
        let dest = o.svc.dests.get(o.di)?;
        let limit = self.tunables.conn_max.get() as u32;
        // Only a TCP handshake may take a half-open entry's place: UDP never evicts one.
        let may_evict = o.engaged && o.key.protocol == Protocol::Tcp;
        if !(self.table.reserve(limit) || may_evict && self.evict(limit)) {
            o.svc.stats.count_drop(Why::TableFull);
            self.global.count_drop(Why::TableFull);
            return None;
        }
        let target = Target {
            rs_addr: u32::from_be_bytes(dest.key.addr),
            rs_port: dest.key.port,
            rs_index: o.di as u32,
            service: 0,
        };
        let mut e = table::new_entry(o.key, &target, o.now);
        e.flags.set(o.flags);
        let hout = self.table.hash(&e.out_key());
        let mut shard = self.table.shard(o.key.saddr, o.key.sport).lock();
        if let Some(i) = shard.lookup_in(o.key, o.hin) {
            let to = shard.entry(i).map(|e| (e.rs_addr, e.rs_port));
            drop(shard);
            self.table.unreserve();
            return to;
        }
        let refs = Refs {
            svc: Arc::clone(&o.svc.stats),
            dest: Arc::clone(&dest.counters),
        };
        match shard.insert(e, refs, o.hin, hout, o.now) {
            Insert::Done(i) => {
                dest.counters.inactive.fetch_add(1, Ordering::Relaxed);
                let _ = track(
                    &self.table,
                    &mut shard,
                    i,
                    o.dir,
                    o.tcp,
                    o.len,
                    o.now,
                    self.tunables.timeouts(o.engaged),
                );
            }
            Insert::Full => {
                drop(shard);
                self.table.unreserve();
                o.svc.stats.count_drop(Why::TableFull);
                self.global.count_drop(Why::TableFull);
                return None;
            }
        }
        drop(shard);
        for s in [&*o.svc.stats, &dest.counters.stats, &*self.global] {
            s.conn();
        }
        for s in [&*o.svc.stats, &dest.counters.stats] {
            match o.dir {
                Direction::Input => s.inbound(o.len),
                Direction::Output => s.outbound(o.len),
            }
        }
        Some((target.rs_addr, target.rs_port))
    }

    /// While engaged and the table is full: evicts the oldest half-open entry (see
    /// `Table::evict_half_open`), resets the real server's side of it, and reserves its
    /// room. `false` if no half-open entry was left.
    fn evict(&self, limit: u32) -> bool {
        let victim = self.table.evict_half_open();
        let Some(v) = victim else {
            return false;
        };
        self.global.count_drop(Why::Eviction);
        reset_real_server(&Reset {
            src: v.client_addr,
            dst: v.rs_addr,
            src_port: v.client_port,
            dst_port: v.rs_port,
            seq: v.client_isn.wrapping_add(1),
            ack_seq: None,
        });
        self.table.reserve(limit)
    }

    /// The entry an ICMP error's quote belongs to, and where its translation points: for an
    /// error from the client (`Input`, quoting a reply VIP:vport → client) the real server,
    /// for one from the real server (`Output`, quoting a request client → server) the VIP.
    /// Either way the quoted packet's reverse is the flow's key in that direction.
    fn quote_target(&self, q: &Quote, dir: Direction) -> Option<(u32, u16)> {
        let key = FlowKey {
            saddr: q.dst,
            daddr: q.src,
            sport: q.dst_port,
            dport: q.src_port,
            protocol: Protocol::from_number(q.protocol)?,
        };
        let h = self.table.hash(&key);
        match dir {
            Direction::Input => {
                let shard = self.table.shard(key.saddr, key.sport).lock();
                let e = shard.entry(shard.lookup_in(&key, h)?)?;
                Some((e.rs_addr, e.rs_port))
            }
            Direction::Output => {
                let shard = self.table.shard(key.daddr, key.dport).lock();
                let e = shard.entry(shard.lookup_out(&key, h)?)?;
                Some((e.vaddr, e.vport))
            }
        }
    }

    /// An ICMP error from a client about a reply it got from VIP:vport (so, sent to the
    /// VIP), at `LOCAL_IN`: passed on to the real server, quote and all translated.
    fn icmp_inbound(&self, skb: &mut SkBuff, h: &[u8], len: u32) -> Verdict {
        let Ok(pkt) = packet::parse_headers(h, len as usize) else {
            return Verdict::Accept;
        };
        let Some(q) = icmp_quote(&pkt) else {
            return Verdict::Accept;
        };
        let Some((addr, port)) = self.quote_target(&q, Direction::Input) else {
            return Verdict::Accept;
        };
        let Some(next) = next_hop(addr.to_be_bytes()) else {
            self.global.count_drop(Why::Route);
            return Verdict::Drop;
        };
        // An ICMP error is never answered with another: one that runs out of TTL just dies.
        if expires_here(&pkt, &next) {
            return Verdict::Drop;
        }
        if rewrite_icmp(skb, &pkt, &q, Side::Destination, addr, port).is_err() {
            return Verdict::Drop;
        }
        send_on(skb, next)
    }

    /// An ICMP error from a real server about a request it got from a client, at
    /// `FORWARD`: made to come from VIP:vport. Without an entry, one about a request to a
    /// configured real server address:port is a zombie, dropped like its packets.
    fn icmp_outbound(&self, skb: &mut SkBuff, pkt: &Packet, q: Quote) -> Verdict {
        let Some((vaddr, vport)) = self.quote_target(&q, Direction::Output) else {
            let guard = rcu::read_lock();
            let cfg = self.store.read(&guard);
            if !cfg.is_real_server(q.protocol, q.dst.to_be_bytes(), q.dst_port) {
                return Verdict::Accept;
            }
            self.global.count_drop(Why::Zombie);
            return Verdict::Drop;
        };
        match rewrite_icmp(skb, pkt, &q, Side::Source, vaddr, vport) {
            Ok(()) => {
                skb.untrack();
                Verdict::Accept
            }
            Err(_) => Verdict::Drop,
        }
    }

    fn route_error(&self, skb: &mut SkBuff, svc: &Stats, addr: u32, port: u16) -> Verdict {
        svc.count_drop(Why::Route);
        self.global.count_drop(Why::Route);
        if net_ratelimit() {
            let a = addr.to_be_bytes();
            pr_warn!(
                "no usable route to real server {}.{}.{}.{}:{}: packet dropped\n",
                a[0],
                a[1],
                a[2],
                a[3],
                port
            );
        }
        skb.send_icmp_unreachable(ICMP_HOST_UNREACH);
        Verdict::Drop
    }

    /// Every packet, at `PRE_ROUTING` before conntrack: one of our flows' packets (to a
    /// service, from a real server, or an ICMP error quoting either) is marked untracked,
    /// so that conntrack neither judges it (a reply whose request it never saw would be
    /// INVALID to a `ct state invalid drop` rule) nor keeps an entry for the flow, and NAT
    /// rules leave it alone, as IPVS does with its default `conntrack = 0`.
    pub(crate) fn pre_routing(&self, skb: &mut SkBuff) -> Verdict {
        if self.is_ours(skb) {
            skb.untrack();
        }
        Verdict::Accept
    }

    fn is_ours(&self, skb: &SkBuff) -> bool {
        let mut buf = [0u8; MAX_HEADERS];
        let n = (skb.network_len() as usize).min(HEADER_AND_PORTS);
        let Some(h) = buf.get_mut(..n) else {
            return false;
        };
        if skb.copy_network(0, h).is_err() {
            return false;
        }
        let guard = rcu::read_lock();
        let cfg = self.store.read(&guard);
        if let (Some(dst), Some(src)) =
            (quick_key(h, Side::Destination), quick_key(h, Side::Source))
        {
            return cfg.find(&dst).is_some() || cfg.is_real_server(src.proto, src.addr, src.port);
        }
        if h.get(9) != Some(&packet::IPPROTO_ICMP) {
            return false;
        }
        let len = skb.network_len();
        let Some(h) = copy_headers(skb, &mut buf) else {
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

    /// Whether a packet comes from the address of a configured real server: at `FORWARD`,
    /// its fragments are reassembled before [`DataPath::outbound`] sees them, so that no
    /// fragment of a reply leaves untranslated (the ones past the first carry no port).
    pub(crate) fn from_real_server_addr(&self, skb: &SkBuff) -> bool {
        let mut src = [0u8; 4];
        if skb.copy_network(12, &mut src).is_err() {
            return false;
        }
        let guard = rcu::read_lock();
        self.store.read(&guard).is_real_server_addr(src)
    }

    /// Real server → client, at `FORWARD`; `in_ifindex` is the device it arrived on.
    pub(crate) fn outbound(&self, skb: &mut SkBuff, in_ifindex: i32) -> Verdict {
        let len = skb.network_len();
        let mut buf = [0u8; MAX_HEADERS];
        let Some(h) = copy_headers(skb, &mut buf) else {
            return Verdict::Accept;
        };
        self.reply(skb, h, len, in_ifindex)
    }

    /// A packet the director sends itself, at `LOCAL_OUT`: ours only when it comes from a
    /// real server that is one of the director's own addresses (one lookup in the sorted
    /// real-server list for every other packet), or when it is the stack's ICMP error about
    /// a packet such a server got (port unreachable from a local UDP server, ...), which
    /// must reach the client as coming from VIP:vport.
    pub(crate) fn local_out(&self, skb: &mut SkBuff) -> Verdict {
        // A packet that arrived on a device and is being sent on (the client packets we
        // DNAT and transmit pass here) is no local server's: no copy, no lookup.
        if skb.arrived() {
            return Verdict::Accept;
        }
        let len = skb.network_len();
        let mut buf = [0u8; MAX_HEADERS];
        let Some(h) = copy_headers(skb, &mut buf) else {
            return Verdict::Accept;
        };
        // An ICMP error is translated, as at FORWARD, when its quote matches an entry;
        // anything else is ours only when it comes from a real server.
        if h.get(9) == Some(&packet::IPPROTO_ICMP) || self.from_real_server(h) {
            return self.reply(skb, h, len, 0);
        }
        Verdict::Accept
    }

    /// A packet from a real server (or, for ICMP errors, about a request it got) to a
    /// client: SNAT back to VIP:vport through its entry.
    fn reply(&self, skb: &mut SkBuff, h: &[u8], len: u32, in_ifindex: i32) -> Verdict {
        let pkt = match packet::parse_headers(h, len as usize) {
            Ok(p) => p,
            Err(why) => return self.unparsable_reply(h, why),
        };
        if let Some(q) = icmp_quote(&pkt) {
            return self.icmp_outbound(skb, &pkt, q);
        }
        let Some((key, tcp)) = flow(&pkt) else {
            return Verdict::Accept;
        };
        let now = jiffies::now();
        let engaged = self.defense.engaged();
        // The reply's destination is the client.
        let found = {
            let mut shard = self.table.shard(key.daddr, key.dport).lock();
            match shard.lookup_out(&key, self.table.hash(&key)) {
                Some(i) => {
                    if let Some(client) = track(
                        &self.table,
                        &mut shard,
                        i,
                        Direction::Output,
                        tcp,
                        len,
                        now,
                        self.tunables.timeouts(engaged),
                    ) {
                        self.defense.remember_client(client);
                    }
                    shard.entry(i).zip(shard.refs(i)).map(|(e, r)| {
                        r.svc.outbound(len);
                        r.dest.stats.outbound(len);
                        (e.vaddr, e.vport)
                    })
                }
                None => None,
            }
        };
        let Some((vaddr, vport)) = found else {
            let arrival = Arrival {
                len,
                now,
                engaged,
                in_ifindex,
            };
            return self.no_entry(skb, &pkt, &key, tcp, &arrival);
        };
        self.global.outbound(len);
        match rewrite(skb, &pkt, Side::Source, vaddr, vport) {
            Ok(()) => {
                skb.untrack();
                Verdict::Accept
            }
            Err(_) => Verdict::Drop,
        }
    }

    /// Whether the TCP or UDP packet whose headers are `h` comes from a configured real
    /// server address:port.
    fn from_real_server(&self, h: &[u8]) -> bool {
        let Some(k) = quick_key(h, Side::Source) else {
            return false;
        };
        let guard = rcu::read_lock();
        self.store
            .read(&guard)
            .is_real_server(k.proto, k.addr, k.port)
    }

    /// A packet on the reply path that does not parse: not ours to judge unless it comes
    /// from a configured real server address:port, and then dropped and counted, never
    /// forwarded untranslated.
    fn unparsable_reply(&self, h: &[u8], why: packet::ParseError) -> Verdict {
        if !self.from_real_server(h) {
            return Verdict::Accept;
        }
        self.global.count_drop(Why::Malformed);
        stats::count_malformed(why);
        if net_ratelimit() {
            pr_info!(
                "malformed packet from a real server dropped: {}\n",
                why.name()
            );
        }
        Verdict::Drop
    }

    /// A reply without an entry. From anyone but a configured real server it is not ours.
    /// From a real server it is a zombie: with `resurrect = 1`, that server address:port in
    /// exactly one service, and the packet arriving where our route to the server leads (so
    /// not spoofed from the clients' side), the entry is re-created from it; otherwise it is
    /// dropped and counted, never masqueraded, and unless it is a reset itself, or did not
    /// come from the server, the server gets one (at most [`ZOMBIE_RESETS_PER_SEC`]) so that
    /// it frees the connection.
    fn no_entry(
        &self,
        skb: &mut SkBuff,
        pkt: &Packet,
        key: &FlowKey,
        tcp: Option<TcpInfo>,
        a: &Arrival,
    ) -> Verdict {
        let guard = rcu::read_lock();
        let cfg = self.store.read(&guard);
        let (proto, rs) = (key.protocol.number(), key.saddr.to_be_bytes());
        if !cfg.is_real_server(proto, rs, key.sport) {
            return Verdict::Accept;
        }
        let rst = tcp.is_some_and(|t| t.flags.has(TcpFlags::RST));
        let genuine = came_from(rs, a.in_ifindex);
        if self.tunables.resurrect.get() == 1 && !rst && genuine {
            if let Some((svc, di)) = cfg.sole_service_of(proto, rs, key.sport) {
                let (vaddr, vport) = (u32::from_be_bytes(svc.key.addr), svc.key.port);
                let in_key = FlowKey {
                    saddr: key.daddr,
                    daddr: vaddr,
                    sport: key.dport,
                    dport: vport,
                    protocol: key.protocol,
                };
                let opening = Opening {
                    key: &in_key,
                    hin: self.table.hash(&in_key),
                    svc,
                    di,
                    flags: EntryFlags::RESURRECTED,
                    dir: Direction::Output,
                    tcp,
                    len: a.len,
                    now: a.now,
                    engaged: a.engaged,
                };
                if self.open(&opening).is_none() {
                    return Verdict::Drop;
                }
                drop(guard);
                self.global.outbound(a.len);
                return match rewrite(skb, pkt, Side::Source, vaddr, vport) {
                    Ok(()) => {
                        skb.untrack();
                        Verdict::Accept
                    }
                    Err(_) => Verdict::Drop,
                };
            }
        }
        self.global.count_drop(Why::Zombie);
        if let Some(t) = tcp {
            if !rst && genuine && self.zombie_resets.allow(a.now) {
                reset_real_server(&zombie_reset(key, t));
            }
        }
        Verdict::Drop
    }
}

/// How and when a packet without an entry arrived, for [`DataPath::no_entry`].
struct Arrival {
    len: u32,
    now: u64,
    engaged: bool,
    /// The device it arrived on; 0 for a packet this host made.
    in_ifindex: i32,
}
