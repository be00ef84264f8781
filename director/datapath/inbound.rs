// SPDX-License-Identifier: GPL-2.0

//! Client → VIP:vport, at `LOCAL_IN`.

use crate::director::{
    config::{Config, Service},
    table::{Segment, TcpInfo},
};
use crate::logic::{
    defense::{client_segment_allowed, opens_connection},
    drops::DropReason,
    entry::{EntryFlags, FlowKey, Place},
    packet::{self, Packet, Side, MAX_HEADERS},
    synproxy::{self, Translation},
    tcp_state::{Direction, TcpFlags},
};
use kernel::{
    jiffies, net::netfilter::Verdict, net::route::net_ratelimit, net::skbuff::SkBuff, prelude::*,
    sync::rcu::Guard,
};

use super::{
    flow::{flow, Opening},
    headers::{
        copy_headers, first_bytes, may_be_icmp_error, quick_key, rewrite, translate,
        HEADER_AND_PORTS,
    },
    route::{expires_here, next_hop, send_on, Next},
    synproxy::Proven,
    DataPath,
};

/// Where a client packet of an existing flow goes: its real server, and for a connection
/// the SYN proxy set up, how its TCP header is translated.
struct Forward {
    rs: (u32, u16),
    translation: Option<Translation>,
}

/// A client packet for a service, parsed, on its way to a real server.
struct ClientPacket<'a> {
    cfg: &'a Config,
    svc: &'a Service,
    /// The flow's inbound key (client → VIP:vport) and where it lives.
    key: FlowKey,
    place: Place,
    tcp: Option<TcpInfo>,
    seg: Segment,
    /// Whether the defense was engaged when the packet arrived.
    engaged: bool,
}

impl<'a> ClientPacket<'a> {
    /// The opening of this packet's flow to real server `dest_index` through `next`,
    /// starting with segment `seg`; `proven` for a connection the SYN proxy set up.
    fn opening<'b>(
        &'b self,
        dest_index: usize,
        next: &Next<'_>,
        seg: Segment,
        proven: Option<&'b Proven>,
    ) -> Opening<'b> {
        Opening {
            key: &self.key,
            place: self.place,
            svc: self.svc,
            dest_index,
            flags: if matches!(next, Next::Local) {
                EntryFlags::LOCAL
            } else {
                0
            },
            seg,
            engaged: self.engaged,
            proven,
        }
    }
}

impl DataPath {
    /// Client → VIP, at `LOCAL_IN`, inside the hook's read-side section `guard`.
    pub(crate) fn inbound<'a>(&'a self, skb: &mut SkBuff, guard: &'a Guard) -> Verdict<'a> {
        let len = skb.network_len();
        let cfg = self.store.read(guard);
        // Whether it is ours, from its first bytes read in place: an ICMP error, or TCP or
        // UDP for a service. Other traffic for this host leaves here.
        let svc = {
            let mut first = [0u8; HEADER_AND_PORTS];
            let Some(f) = first_bytes(skb, &mut first) else {
                return Verdict::Accept;
            };
            if f.get(9) == Some(&packet::IPPROTO_ICMP) {
                if !may_be_icmp_error(f) {
                    return Verdict::Accept;
                }
                None
            } else {
                let Some(svc) = quick_key(f, Side::Destination).and_then(|k| cfg.find(&k)) else {
                    return Verdict::Accept;
                };
                Some(svc)
            }
        };
        let Some(svc) = svc else {
            let mut buf = [0u8; MAX_HEADERS];
            let Some(h) = copy_headers(skb, &mut buf) else {
                return Verdict::Accept;
            };
            return self.icmp_inbound(skb, h, len, guard);
        };
        let parsed = {
            let mut buf = [0u8; MAX_HEADERS];
            let Some(h) = first_bytes(skb, &mut buf) else {
                return Verdict::Accept;
            };
            packet::parse_headers(h, len as usize)
        };
        let pkt = match parsed {
            Ok(p) => p,
            Err(why) => {
                self.count_drop(&svc.stats, DropReason::Malformed);
                self.malformed.count(why);
                if net_ratelimit() {
                    pr_info!("malformed packet for a service dropped: {}\n", why.name());
                }
                return Verdict::Drop;
            }
        };
        let Some((key, tcp)) = flow(&pkt) else {
            return Verdict::Accept;
        };
        let c = ClientPacket {
            cfg,
            svc,
            place: self.table.place(&key, Direction::Input),
            key,
            tcp,
            seg: Segment {
                dir: Direction::Input,
                tcp,
                len,
                now: jiffies::now(),
            },
            engaged: self.defense.engaged(),
        };
        let (rs, next, translation) = match self.established(&c) {
            Err(verdict) => return verdict,
            Ok(Some(f)) => match next_hop(cfg, f.rs.0.to_be_bytes(), guard) {
                Ok(n) => (f.rs, n, f.translation),
                Err(why) => return self.route_error(skb, &svc.stats, f.rs, why),
            },
            Ok(None) => match self.new_flow(skb, &c, &pkt, guard) {
                Ok((rs, n)) => (rs, n, None),
                Err(verdict) => return verdict,
            },
        };
        self.to_real_server(skb, &pkt, rs, next, translation)
    }

    /// The real server of an existing flow, tracked under the shard lock, and the
    /// translation of a connection the SYN proxy set up; `None` for a new flow. While
    /// engaged, ACK validation refuses (`Err`) a client ACK for a connection whose real
    /// server has not answered (SR), or that does not acknowledge the server's SYN+ACK
    /// (SA): it is blind and never reaches the server; so is a segment without ACK (a FIN,
    /// say) on such a half-open entry. A proxied connection's client proved itself with
    /// its cookie: its segments wait for the real server's answer (dropped until then,
    /// for the client to send again), then pass translated; a new SYN ends it.
    fn established(&self, c: &ClientPacket<'_>) -> Result<Option<Forward>, Verdict<'static>> {
        let mut shard = self.table.shard(c.place).lock();
        let Some(i) = shard.lookup_in(&c.key, c.place.chain) else {
            return Ok(None);
        };
        let proxied = shard
            .entry(i)
            .is_some_and(|e| e.flags.has(EntryFlags::PROXIED));
        // A new SYN on a proxied connection (its port reused, from TIME_WAIT, say) starts
        // afresh: the old shifts mean nothing to the new connection.
        if proxied && c.tcp.is_some_and(|t| opens_connection(t.flags)) {
            self.table.remove(&mut shard, i);
            return Ok(None);
        }
        if proxied && shard.entry(i).is_some_and(DataPath::in_setup) {
            return Err(Verdict::Drop);
        }
        if let (true, false, Some(t), Some(e)) = (c.engaged, proxied, c.tcp, shard.entry(i)) {
            if !client_segment_allowed(e.state, e.rs_isn, t.flags, t.ack_seq) {
                drop(shard);
                self.count_drop(&c.svc.stats, DropReason::BlindAck);
                return Err(Verdict::Drop);
            }
        }
        let _ = self
            .table
            .track(&mut shard, i, c.seg, self.tunables.timeouts(c.engaged));
        let len = c.seg.len;
        Ok(shard.entry(i).zip(shard.refs(i)).map(|(e, r)| {
            r.svc.inbound(len);
            r.stats.inbound(len);
            Forward {
                rs: (e.rs_addr, e.rs_port),
                translation: proxied.then(|| e.translation()),
            }
        }))
    }

    /// A new flow: only a TCP SYN opens one, at the defense's SYN rate while engaged, or
    /// while the SYN proxy answers, an ACK with a valid cookie; a real server is
    /// scheduled, its next hop checked and the entry opened. Returns the real server and
    /// its next hop, or the verdict when the packet goes no further.
    fn new_flow<'a>(
        &'a self,
        skb: &mut SkBuff,
        c: &ClientPacket<'a>,
        pkt: &Packet,
        guard: &'a Guard,
    ) -> Result<((u32, u16), Next<'a>), Verdict<'a>> {
        let svc = c.svc;
        if let Some(t) = c.tcp {
            if self.proxy_active(c.engaged) {
                return Err(self.proxied_new_flow(skb, c, pkt, t, guard));
            }
            // Only a SYN (without ACK, RST or FIN) may open a TCP connection.
            if !opens_connection(t.flags) {
                return Err(Verdict::Drop);
            }
            // While engaged, new-connection SYNs are dropped at the rate, before they
            // reach any real server.
            if self.defense.drop_new_syn(c.key.saddr) {
                self.count_drop(&svc.stats, DropReason::SynRate);
                return Err(Verdict::Drop);
            }
        }
        let (dest_index, rs, next) = self.schedule(skb, c, guard)?;
        // A packet we forward whose TTL runs out here opens nothing.
        if expires_here(pkt, &next) {
            skb.send_icmp_time_exceeded();
            return Err(Verdict::Drop);
        }
        match self.open(&c.opening(dest_index, &next, c.seg, None)) {
            // Another CPU may have opened the flow meanwhile: follow its entry.
            Some(other) if other != rs => match next_hop(c.cfg, other.0.to_be_bytes(), guard) {
                Ok(n) => Ok((other, n)),
                Err(why) => Err(self.route_error(skb, &svc.stats, other, why)),
            },
            Some(_) => Ok((rs, next)),
            None => Err(Verdict::Drop),
        }
    }

    /// A new TCP flow while the SYN proxy answers: a SYN gets a cookie SYN+ACK; an ACK
    /// (without FIN) with a valid cookie (at the defense's rate, as a SYN would be) opens
    /// the entry and the director's handshake with a real server; anything else, or an ACK
    /// with a bad cookie (a blind ACK), is dropped.
    fn proxied_new_flow<'a>(
        &'a self,
        skb: &mut SkBuff,
        c: &ClientPacket<'a>,
        pkt: &Packet,
        t: TcpInfo,
        guard: &'a Guard,
    ) -> Verdict<'a> {
        if opens_connection(t.flags) {
            self.answer_syn(skb, pkt, &c.key, t);
            return Verdict::Drop;
        }
        // Only an ACK (with data or not) may complete a handshake: a FIN has nothing to
        // open, so it opens nothing.
        let closing = TcpFlags::SYN | TcpFlags::RST | TcpFlags::FIN;
        if !t.flags.has(TcpFlags::ACK) || t.flags.0 & closing != 0 {
            return Verdict::Drop;
        }
        let Some(proven) = self.check_cookie(skb, pkt, &c.key, t) else {
            self.count_drop(&c.svc.stats, DropReason::BlindAck);
            return Verdict::Drop;
        };
        if self.defense.drop_new_syn(c.key.saddr) {
            self.count_drop(&c.svc.stats, DropReason::SynRate);
            return Verdict::Drop;
        }
        let (dest_index, rs, next) = match self.schedule(skb, c, guard) {
            Ok(s) => s,
            Err(verdict) => return verdict,
        };
        // The entry starts as the client's SYN would have started it.
        let syn = Segment {
            tcp: Some(TcpInfo {
                flags: TcpFlags(TcpFlags::SYN),
                seq: proven.isn,
                ack_seq: 0,
                payload: 0,
            }),
            ..c.seg
        };
        if self.open(&c.opening(dest_index, &next, syn, Some(&proven))) == Some(rs) {
            self.syn_to_server(&c.key, rs, &proven, guard);
        }
        Verdict::Drop
    }

    /// Schedules a real server for a new flow and finds its next hop: its index, address
    /// and port, and the hop; or the verdict (a route error is counted and told).
    fn schedule<'a>(
        &'a self,
        skb: &mut SkBuff,
        c: &ClientPacket<'a>,
        guard: &'a Guard,
    ) -> Result<(usize, (u32, u16), Next<'a>), Verdict<'a>> {
        let svc = c.svc;
        let dest_index = svc
            .schedule(c.key.saddr.to_be_bytes(), c.key.sport)
            .ok_or(Verdict::Drop)?;
        let dest = svc.dests.get(dest_index).ok_or(Verdict::Drop)?;
        let rs = (u32::from_be_bytes(dest.key.addr), dest.key.port);
        match next_hop(c.cfg, dest.key.addr, guard) {
            Ok(n) => Ok((dest_index, rs, n)),
            Err(why) => {
                dest.counters.stats.count_drop(DropReason::Route);
                Err(self.route_error(skb, &svc.stats, rs, why))
            }
        }
    }

    /// Sends a client packet on to real server `rs` through `next`: as a router would
    /// (TTL, "fragmentation needed"), then DNAT.
    fn to_real_server<'a>(
        &self,
        skb: &mut SkBuff,
        pkt: &Packet,
        (rs_addr, rs_port): (u32, u16),
        next: Next<'a>,
        translation: Option<Translation>,
    ) -> Verdict<'a> {
        let len = skb.network_len();
        if expires_here(pkt, &next) {
            skb.send_icmp_time_exceeded();
            return Verdict::Drop;
        }
        // A don't-fragment packet larger than the route's MTU: the client is told, as the
        // forwarding path would tell it, from the packet as received (its stack must
        // recognise the quote). GSO packets are segmented on output, so they fit.
        if let Next::Out(route) = &next {
            let mtu = route.get().mtu();
            if pkt.ip.dont_fragment && len > mtu && !skb.is_gso() {
                skb.send_icmp_frag_needed(mtu);
                return Verdict::Drop;
            }
        }
        self.global.inbound(len);
        if let Some(tr) = translation {
            if translate(skb, pkt, |h, mode| synproxy::to_server(h, &tr, mode)).is_err() {
                return self.rewrite_failed();
            }
        }
        if rewrite(skb, pkt, Side::Destination, rs_addr, rs_port).is_err() {
            return self.rewrite_failed();
        }
        send_on(skb, next)
    }
}
